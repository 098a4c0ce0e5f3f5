import CHDF5
import Foundation

/// An HDF5 file opened for reading, or being written under a temporary name.
///
/// Writing never touches the final path until `commit()`: `create` and `update` work on
/// `<path>.tmp-<pid>-<n>` and `commit()` flushes, closes, fsyncs and renames it over `path`, so a
/// killed writer leaves no file (or the previous complete file) under the final name. A file that is
/// released without `commit()` is discarded.
public final class HDF5File {
    /// The final path.
    public let path: String
    /// The path actually open (the temporary name while writing).
    public let workingPath: String
    public let isWritable: Bool
    let handle: H5Handle
    private var finished = false

    private init(path: String, workingPath: String, handle: H5Handle, writable: Bool) {
        self.path = path
        self.workingPath = workingPath
        self.handle = handle
        self.isWritable = writable
    }

    /// True once a write failed for lack of space (`HDF5Error.storageFull`): from then on files and
    /// objects are left open, and the process must end without libhdf5's exit handlers.
    public static var storageFailed: Bool { H5.storageFailed.load(ordering: .relaxed) }

    deinit {
        if isWritable && !finished { discard() }
    }

    /// The root group `/`.
    public var root: HDF5Group {
        let id = H5Gopen2(handle.id, "/", bio_H5P_DEFAULT())
        return HDF5Group(file: self, handle: id >= 0 ? H5Handle(id, .group) : nil, path: "/")
    }

    // MARK: Opening

    /// Opens an existing file read-only. A missing path or a non-HDF5 file gives one clear error;
    /// so does a file whose variable-length data crashes libhdf5 (`HDF5Probe`, unless `probe` is false).
    public static func open(_ path: String, probe: Bool = true) throws(HDF5Error) -> HDF5File {
        H5.ensureInitialized()
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue else {
            throw HDF5Error.missingFile(file: path)
        }
        guard H5.isHDF5(path) else { throw HDF5Error.notHDF5(file: path) }
        if probe { try HDF5Probe.check(path) }
        let fapl = try accessList(file: path)
        let id = try H5.check(H5Fopen(path, bio_H5F_ACC_RDONLY(), fapl.id), "H5Fopen", file: path, object: "/")
        return HDF5File(path: path, workingPath: path, handle: H5Handle(id, .file), writable: false)
    }

    /// Starts a new file that will replace `path` on `commit()`.
    ///
    /// - Parameter virtualDatasets: allow the HDF5 1.10 format features virtual datasets need
    ///   (readers need HDF5 ≥ 1.10, as every current h5py has).
    public static func create(_ path: String, virtualDatasets: Bool = false) throws(HDF5Error) -> HDF5File {
        H5.ensureInitialized()
        let temporary = temporaryName(for: path)
        try ensureParentDirectory(of: path)
        let fapl = try accessList(file: path, newest: virtualDatasets)
        let id = try H5.check(
            H5Fcreate(temporary, bio_H5F_ACC_TRUNC(), H5.defaultList, fapl.id), "H5Fcreate", file: path, object: "/")
        return HDF5File(path: path, workingPath: temporary, handle: H5Handle(id, .file), writable: true)
    }

    /// Opens `path` for adding groups (a copy is edited and renamed on `commit()`); creates it when absent.
    public static func update(_ path: String) throws(HDF5Error) -> HDF5File {
        H5.ensureInitialized()
        guard FileManager.default.fileExists(atPath: path) else { return try create(path) }
        guard H5.isHDF5(path) else { throw HDF5Error.notHDF5(file: path) }
        try HDF5Probe.check(path)
        let temporary = temporaryName(for: path)
        do {
            try FileManager.default.copyItem(atPath: path, toPath: temporary)
        } catch {
            throw HDF5Error.call(file: path, object: "/", operation: "copy to \(temporary)", detail: "\(error)")
        }
        let fapl = try accessList(file: path)
        let id = try H5.check(H5Fopen(temporary, bio_H5F_ACC_RDWR(), fapl.id), "H5Fopen", file: path, object: "/")
        return HDF5File(path: path, workingPath: temporary, handle: H5Handle(id, .file), writable: true)
    }

    // MARK: Finishing

    /// Flushes, closes and atomically renames the temporary file to `path`.
    ///
    /// A killed process can never leave a partial file under `path`: the rename happens only
    /// after every byte was handed to the kernel. `durable: true` also fsyncs the file before the
    /// rename (and the folder after it), so the file survives a power loss too; this costs the
    /// time to write it to disk.
    public func commit(durable: Bool = false) throws(HDF5Error) {
        precondition(isWritable, "commit() on a read-only file")
        guard !finished else { return }
        try H5.check(H5Fflush(handle.id, H5F_SCOPE_GLOBAL), "H5Fflush", file: path, object: "/")
        handle.close()
        finished = true
        H5.releaseFreeLists()
        if durable { Self.fsync(workingPath) }
        if rename(workingPath, path) != 0 {
            let reason = String(cString: strerror(errno))
            unlink(workingPath)
            throw HDF5Error.call(file: path, object: "/", operation: "rename from \(workingPath)", detail: reason)
        }
        if durable {
            let folder = (path as NSString).deletingLastPathComponent
            Self.fsync(folder.isEmpty ? "." : folder)
        }
        HDF5Probe.trust(path)
    }

    /// Hands every change so far to the kernel (the file stays open, under its temporary name).
    public func flush() throws(HDF5Error) {
        try H5.check(H5Fflush(handle.id, H5F_SCOPE_GLOBAL), "H5Fflush", file: path, object: "/")
    }

    /// Closes a file opened for reading, or abandons a write (the temporary file is removed).
    public func close() {
        if isWritable && !finished {
            discard()
        } else {
            handle.close()
            finished = true
        }
    }

    private func discard() {
        handle.close()
        finished = true
        unlink(workingPath)
    }

    // MARK: Helpers

    static func fsync(_ path: String) {
        let fd = Glibc.open(path, O_RDONLY)
        if fd >= 0 {
            Glibc.fsync(fd)
            Glibc.close(fd)
        }
    }

    private static let counter = AtomicCounter()

    static func temporaryName(for path: String) -> String {
        "\(path).tmp-\(getpid())-\(counter.next())"
    }

    private static func ensureParentDirectory(of path: String) throws(HDF5Error) {
        let parent = (path as NSString).deletingLastPathComponent
        guard !parent.isEmpty else { return }
        do {
            try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true)
        } catch {
            throw HDF5Error.call(file: path, object: "/", operation: "create folder \(parent)", detail: "\(error)")
        }
    }

    /// File access: HDF5 1.8+ object headers (dense attribute storage for long provenance lists;
    /// readable by every h5py), strong close so no object keeps the file open after `commit()`, and
    /// no HDF5 file locking.
    private static func accessList(file: String, newest: Bool = false) throws(HDF5Error) -> H5Handle {
        let fapl = H5Handle(try H5.check(H5Pcreate(bio_H5P_FILE_ACCESS()), "H5Pcreate", file: file, object: "/"), .propertyList)
        try H5.check(H5Pset_libver_bounds(fapl.id, H5F_LIBVER_V18, newest ? H5F_LIBVER_V110 : H5F_LIBVER_V18), "H5Pset_libver_bounds", file: file, object: "/")
        try H5.check(H5Pset_fclose_degree(fapl.id, H5F_CLOSE_STRONG), "H5Pset_fclose_degree", file: file, object: "/")
        // No flock() by HDF5 itself: outputs are written under temporary names and renamed, runs
        // sharing a folder are kept apart by `OutputLock`, and HDF5's locks both fail on some
        // cluster file systems and are inherited by any child process forked while a file is open
        // (a later open of that file then fails with EAGAIN until the child exits).
        try H5.check(H5Pset_file_locking(fapl.id, false, true), "H5Pset_file_locking", file: file, object: "/")
        return fapl
    }
}

/// A process-wide counter for unique temporary names.
final class AtomicCounter: @unchecked Sendable {
    // @unchecked: every access goes through the lock.
    private let lock = NSLock()
    private var value = 0
    func next() -> Int {
        lock.lock(); defer { lock.unlock() }
        value += 1
        return value
    }
}
