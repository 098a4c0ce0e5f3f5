import Foundation

/// SHA-256 of input files, remembered by (path, size, modification time) so unchanged files are
/// not read again on the next run. The hash (content), not the time stamp, decides what changed:
/// the time stamp only decides whether a file must be re-read.
///
/// Stored as one line per file, `<sha256 hex> <size> <mtime s> <mtime ns> <path>` (a plain text
/// file read in one pass: a cache of 10,000 files loads in milliseconds, where JSON decoding took
/// ~60 ms). When the cache is written, entries of files that no longer exist are dropped, so a
/// folder used for many corpora does not keep every path it ever saw. Paths holding a newline are
/// hashed but not stored. Safe to use from several threads. `save()` writes the cache atomically
/// (temporary + rename).
public final class FileHashCache: @unchecked Sendable {
    // @unchecked: `entries`, `used` and `dirty` are only touched under `lock`.
    private struct Entry: Equatable {
        var size: Int64
        var seconds: Int64
        var nanoseconds: Int64
        var sha256: String
    }

    public let location: String?
    private let hasher: @Sendable (String) throws -> String
    private let lock = NSLock()
    private var entries: [String: Entry] = [:]
    private var used: Set<String> = []
    private var dirty = false

    /// A cache stored at `location` (nil: in memory only); `hasher` computes a file's hex digest.
    /// An unreadable or malformed cache file counts as empty (its lines that parse are kept).
    public init(location: String?, hasher: @escaping @Sendable (String) throws -> String = { try SHA256.hex(ofFile: $0) }) {
        self.location = location
        self.hasher = hasher
        if let location, let data = FileManager.default.contents(atPath: location) {
            data.withUnsafeBytes { entries = Self.parse($0.bindMemory(to: UInt8.self)) }
        }
    }

    /// The content hash of `path` (hex), from the cache when size and mtime are unchanged.
    public func sha256(of path: String) throws -> String {
        let key = PathText.normalized(path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path)
        guard let stamp = FileStamp(path) else { throw CoreError.unreadable(file: path, reason: "no such file") }
        lock.lock()
        if let entry = entries[key], entry.size == stamp.size, entry.seconds == stamp.seconds, entry.nanoseconds == stamp.nanoseconds {
            used.insert(key)
            lock.unlock()
            return entry.sha256
        }
        lock.unlock()
        let digest = try hasher(path)
        lock.lock()
        entries[key] = Entry(size: stamp.size, seconds: stamp.seconds, nanoseconds: stamp.nanoseconds, sha256: digest)
        used.insert(key)
        dirty = true
        lock.unlock()
        return digest
    }

    /// Writes the cache if it changed, without the entries of files that are gone or changed since
    /// (entries looked up in this run are always kept).
    public func save() {
        lock.lock()
        defer { lock.unlock() }
        guard dirty, let location else { return }
        var text = ""
        text.reserveCapacity(entries.count * 120)
        for key in entries.keys.sorted() {
            guard let entry = entries[key], !key.contains("\n") else { continue }
            if !used.contains(key) {
                guard let stamp = FileStamp(key), stamp.size == entry.size, stamp.seconds == entry.seconds,
                      stamp.nanoseconds == entry.nanoseconds else { continue }
            }
            text += "\(entry.sha256) \(entry.size) \(entry.seconds) \(entry.nanoseconds) \(key)\n"
        }
        let folder = (location as NSString).deletingLastPathComponent
        try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        if AtomicFile.write(Data(text.utf8), to: location) { dirty = false }
    }

    /// Number of remembered files (for tests and diagnostics).
    public var count: Int {
        lock.lock()
        defer { lock.unlock() }
        return entries.count
    }

    /// Lines `<hex> <size> <s> <ns> <path>`; lines that do not have this shape are skipped.
    private static func parse(_ bytes: UnsafeBufferPointer<UInt8>) -> [String: Entry] {
        var result: [String: Entry] = [:]
        var position = 0
        let count = bytes.count
        while position < count {
            var end = position
            while end < count && bytes[end] != 0x0A { end += 1 }
            defer { position = end + 1 }
            // four space-separated fields, then the path (which may itself hold spaces)
            var fields: [Range<Int>] = []
            var start = position
            var i = position
            while i < end && fields.count < 4 {
                if bytes[i] == 0x20 {
                    fields.append(start..<i)
                    start = i + 1
                }
                i += 1
            }
            guard fields.count == 4, start < end, fields[0].count == 64,
                  let size = integer(bytes, fields[1]), let seconds = integer(bytes, fields[2]),
                  let nanoseconds = integer(bytes, fields[3]) else { continue }
            let hex = String(decoding: UnsafeBufferPointer(rebasing: bytes[fields[0]]), as: UTF8.self)
            let path = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<end]), as: UTF8.self)
            result[path] = Entry(size: size, seconds: seconds, nanoseconds: nanoseconds, sha256: hex)
        }
        return result
    }

    private static func integer(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> Int64? {
        guard !range.isEmpty, range.count <= 18 else { return nil }
        var value: Int64 = 0
        var negative = false
        for i in range {
            if i == range.lowerBound && bytes[i] == 0x2D { negative = true; continue }
            let d = bytes[i] &- 0x30
            guard d < 10 else { return nil }
            value = value * 10 + Int64(d)
        }
        return negative ? -value : value
    }
}
