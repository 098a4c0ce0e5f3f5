import Foundation

/// Writes small files (records, caches, notebooks) so that a reader sees the old content or the
/// new one, never a part: a temporary file next to the target, then a rename.
public enum AtomicFile {
    /// Writes `data` to `path`; `durable` also fsyncs it before the rename. Returns false on failure
    /// (nothing is left under `path` or beside it); callers say what could not be written.
    @discardableResult
    public static func write(_ data: Data, to path: String, durable: Bool = false) -> Bool {
        let temporary = path + ".tmp-\(getpid())"
        guard FileManager.default.createFile(atPath: temporary, contents: data) else { return false }
        if durable {
            let fd = open(temporary, O_RDONLY)
            if fd >= 0 { fsync(fd); close(fd) }
        }
        guard rename(temporary, path) == 0 else {
            unlink(temporary)
            return false
        }
        return true
    }
}
