import BioEmbedCore

/// Errors from the HDF5 and NetCDF layers. Every case names the file and, where there is one, the
/// object inside it.
public enum HDF5Error: Error, CustomStringConvertible, Sendable, Equatable {
    /// A library call failed (`operation` is the C function, `detail` HDF5's innermost message).
    case call(file: String, object: String, operation: String, detail: String)
    /// The path does not exist.
    case missingFile(file: String)
    /// The file exists but is not HDF5.
    case notHDF5(file: String)
    /// A group, dataset or attribute is absent.
    case missingObject(file: String, object: String)
    /// A dataset or attribute holds another type than the caller asked for.
    case typeMismatch(file: String, object: String, expected: String, found: String)
    /// A buffer or record does not fit the dataset's shape.
    case shapeMismatch(file: String, object: String, expected: String, found: String)
    /// A NetCDF call failed.
    case netCDF(file: String, operation: String, detail: String)
    /// A dataset or group whose data would be read from another file (external link, external
    /// raw storage, a virtual dataset reaching outside its folder): refused.
    case foreignData(file: String, object: String, detail: String)
    /// Reading the file's variable-length data crashed libhdf5 in a child process (a corrupt
    /// global heap, `HDF5Probe`): the file is not read.
    case corruptHeap(file: String, detail: String)
    /// A write failed because the file system is full (or the quota reached): the whole run
    /// stops (exit 3); nothing is left under a final name, and `--resume` continues once space is freed.
    case storageFull(file: String, detail: String)

    /// True for `storageFull`: no later stage or item can succeed either.
    public var isStorageFull: Bool {
        if case .storageFull = self { return true }
        return false
    }

    public var description: String {
        switch self {
        case let .call(file, object, operation, detail):
            return "\(file): \(object): \(operation) failed" + (detail.isEmpty ? "" : " (\(detail))")
        case let .missingFile(file):
            return "\(file): no such file"
        case let .notHDF5(file):
            return "\(file): not an HDF5 file (expected the HDF5 signature \\x89HDF\\r\\n\\x1a\\n)"
        case let .missingObject(file, object):
            return "\(file): \(object) does not exist"
        case let .typeMismatch(file, object, expected, found):
            return "\(file): \(object): expected \(expected), found \(found)"
        case let .shapeMismatch(file, object, expected, found):
            return "\(file): \(object): expected shape \(expected), found \(found)"
        case let .netCDF(file, operation, detail):
            return "\(file): \(operation) failed (\(detail))"
        case let .foreignData(file, object, detail):
            return "\(file): \(object): expected data stored in this file, found \(detail) (not followed: BioEmbed reads only the files it is given)"
        case let .corruptHeap(file, detail):
            return "\(file): corrupt HDF5 file: \(detail); not read (check it with h5py or h5dump)"
        case let .storageFull(file, detail):
            return "\(file): cannot write: \(detail.lowercased()); free some space, then run again with --resume"
        }
    }
}

extension HDF5Error: BioEmbedError {}
