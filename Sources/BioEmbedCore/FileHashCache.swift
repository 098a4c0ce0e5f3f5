import Foundation

/// SHA-256 of input files, remembered by (path, size, modification time) so unchanged files are
/// not read again on the next run. The hash (content), not the time stamp, decides what changed:
/// the time stamp only decides whether a file must be re-read.
///
/// Safe to use from several threads. `save()` writes the cache atomically (temporary + rename).
public final class FileHashCache: @unchecked Sendable {
    // @unchecked: `entries` is only touched under `lock`.
    private struct Entry: Codable {
        var size: Int64
        var mtime: Double
        var sha256: String
    }

    public let location: String?
    private let hasher: @Sendable (String) throws -> String
    private let lock = NSLock()
    private var entries: [String: Entry] = [:]
    private var dirty = false

    /// A cache stored at `location` (nil: in memory only); `hasher` computes a file's hex digest.
    public init(location: String?, hasher: @escaping @Sendable (String) throws -> String = { try SHA256.hex(ofFile: $0) }) {
        self.location = location
        self.hasher = hasher
        if let location, let data = FileManager.default.contents(atPath: location),
           let decoded = try? JSONDecoder().decode([String: Entry].self, from: data) {
            entries = decoded
        }
    }

    /// The content hash of `path` (hex), from the cache when size and mtime are unchanged.
    public func sha256(of path: String) throws -> String {
        let key = PathText.normalized(path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path)
        var status = stat()
        guard stat(path, &status) == 0 else { throw CoreError.unreadable(file: path, reason: "no such file") }
        let size = Int64(status.st_size)
        let mtime = Double(status.st_mtim.tv_sec) + Double(status.st_mtim.tv_nsec) * 1e-9
        lock.lock()
        if let entry = entries[key], entry.size == size, entry.mtime == mtime {
            lock.unlock()
            return entry.sha256
        }
        lock.unlock()
        let digest = try hasher(path)
        lock.lock()
        entries[key] = Entry(size: size, mtime: mtime, sha256: digest)
        dirty = true
        lock.unlock()
        return digest
    }

    /// Writes the cache if it changed.
    public func save() {
        lock.lock()
        defer { lock.unlock() }
        guard dirty, let location else { return }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        guard let data = try? encoder.encode(entries) else { return }
        let folder = (location as NSString).deletingLastPathComponent
        try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        if AtomicFile.write(data, to: location) { dirty = false }
    }
}
