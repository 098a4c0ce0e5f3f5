import CHDF5
import Glibc
import Synchronization

/// The one place where HDF5 status codes become Swift errors (swift-system's `valueOrErrno` idea).
enum H5 {
    /// Runs once per process: opens the library and turns off its stderr error-stack printing.
    private static let initialized: Bool = {
        H5open()
        // HDF5 keeps freed blocks on internal free lists that are never returned by default, so a
        // long run that opens many files (parts, shards) grows without bound. Cap them.
        H5set_free_list_limits(4 << 20, 1 << 20, 4 << 20, 1 << 20, 4 << 20, 1 << 20)
        return true
    }()

    /// Returns HDF5's free-list memory to the allocator (after a file is closed).
    static func releaseFreeLists() { H5garbage_collect() }

    /// Opens the library once per process and silences HDF5's stderr error stack in this thread
    /// (thread-safe builds keep one stack per thread). Cheap after the first call in a thread.
    static func ensureInitialized() {
        _ = initialized
        bio_h5_silence_errors()
    }

    /// Whether `path` is a file (not a directory) with the HDF5 signature; nothing else of it is read.
    static func isHDF5(_ path: String) -> Bool {
        ensureInitialized()
        var status = stat()
        return stat(path, &status) == 0 && status.st_mode & S_IFMT != S_IFDIR && H5Fis_hdf5(path) > 0
    }

    static func lastError() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        bio_h5_last_error(&buffer)
        return string(fromCBuffer: buffer)
    }

    /// Throws when a `herr_t`/`htri_t`-style status is negative.
    @discardableResult
    static func check<T: BinaryInteger>(_ status: T, _ operation: String, file: String, object: String) throws(HDF5Error) -> T {
        let code = errno
        bio_h5_silence_errors()
        if status < 0 {
            let detail = lastError()
            if [ENOSPC, EDQUOT, EFBIG].contains(code) || detail.localizedCaseInsensitiveContains("no space left") {
                storageFailed.store(true, ordering: .relaxed)
                throw HDF5Error.storageFull(file: file, detail: String(cString: strerror(code == 0 ? ENOSPC : code)))
            }
            throw HDF5Error.call(file: file, object: object, operation: operation, detail: detail)
        }
        return status
    }

    /// Set once a write failed for lack of space. HDF5 1.10's state after such a failure is not
    /// safe to close (closing the dataset handles of that file crashed inside `H5D_close`), so from
    /// then on handles are left open: the error goes up, the run reports it and exits.
    static let storageFailed = Atomic<Bool>(false)

    static var defaultList: hid_t { bio_H5P_DEFAULT() }

    /// Transfer list for variable-length string reads and writes: a 64 KiB type-conversion buffer
    /// instead of HDF5's 1 MiB one, which HDF5 allocates *and zeroes* on every such call (item-by-item
    /// reads of a collection's strings spent a third of a merge in that memset).
    static let stringTransferList: hid_t = {
        ensureInitialized()
        let list = H5Pcreate(bio_H5P_DATASET_XFER())
        if list >= 0 { _ = H5Pset_buffer(list, 64 << 10, nil, nil) }
        return list >= 0 ? list : bio_H5P_DEFAULT()
    }()
}

/// Owns one HDF5 identifier and closes it when released.
final class H5Handle {
    enum Kind { case file, group, dataset, dataspace, datatype, attribute, propertyList, object }
    let id: hid_t
    let kind: Kind

    init(_ id: hid_t, _ kind: Kind) {
        self.id = id
        self.kind = kind
    }

    /// Closes now; later closes are no-ops.
    private var closed = false
    func close() {
        guard !closed else { return }
        closed = true
        if H5.storageFailed.load(ordering: .relaxed) { return }
        // With H5F_CLOSE_STRONG an object may already be closed by its file.
        H5.ensureInitialized()
        guard H5Iis_valid(id) > 0 else { return }
        switch kind {
        case .file:
            H5Fclose(id)
            H5.releaseFreeLists()
        case .group: H5Gclose(id)
        case .dataset: H5Dclose(id)
        case .dataspace: H5Sclose(id)
        case .datatype: H5Tclose(id)
        case .attribute: H5Aclose(id)
        case .propertyList: H5Pclose(id)
        case .object: H5Oclose(id)
        }
    }

    deinit { close() }
}

/// The text of a NUL-terminated C character buffer.
func string(fromCBuffer buffer: [CChar]) -> String {
    let end = buffer.firstIndex(of: 0) ?? buffer.endIndex
    return String(decoding: buffer[..<end].map { UInt8(bitPattern: $0) }, as: UTF8.self)
}
