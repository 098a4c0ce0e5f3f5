import CZlib
import Foundation

/// Reads a file in blocks, inflating it when it is gzip-compressed (`.gz`, detected by content).
///
/// Used by every reader that accepts `.gz` inputs (NIfTI, PDB/mmCIF, SDF). Memory stays at one
/// block whatever the file size.
/// A byte range of a file: a member of a tar archive.
public struct ByteRange: Sendable, Hashable {
    public var offset: Int
    public var length: Int
    public init(offset: Int, length: Int) {
        self.offset = offset
        self.length = length
    }
}

public final class CompressedFileReader {
    public let path: String
    /// zlib's reader: plain files, and gzip files when ISA-L is not used.
    private let handle: gzFile?
    /// ISA-L inflater for gzip files (about 4× zlib); zlib reads everything else.
    private let fast: IgzipInflater?
    /// A plain (not gzip) byte range, read with pread: zlib cannot read a range.
    private let plainRange: (fd: Int32, end: Int)?
    private var position = 0
    /// Whether the file is gzip-compressed.
    public let isCompressed: Bool
    /// The content size the file states: for gzip the trailer's ISIZE (the size modulo 2³²; 0 when
    /// the file is too short to have one), else the file size. A hint for sizing a buffer.
    public let contentSizeHint: Int

    /// Reads `path`, or only `range` of it (a tar member: gzip-compressed or not by its own bytes).
    public init(_ path: String, range: ByteRange? = nil) throws(HDF5Error) {
        self.path = path
        // one open for the checks: it exists and is not a folder, its size, the gzip magic (1f 8b,
        // so a gzip file is then opened once more, by ISA-L, and not also by zlib) and trailer
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            if errno == ENOENT || errno == ENOTDIR { throw HDF5Error.missingFile(file: path) }
            throw HDF5Error.call(file: path, object: "/", operation: "open", detail: String(cString: strerror(errno)))
        }
        var keepOpen = false
        defer { if !keepOpen { close(fd) } }
        var status = stat()
        guard fstat(fd, &status) == 0, (status.st_mode & S_IFMT) != S_IFDIR else { throw HDF5Error.missingFile(file: path) }
        let fileSize = Int(status.st_size)
        let start = range?.offset ?? 0
        let size = range.map { max(0, min($0.length, fileSize - start)) } ?? fileSize
        var magic: (UInt8, UInt8) = (0, 0)
        _ = withUnsafeMutableBytes(of: &magic) { pread(fd, $0.baseAddress, size >= 2 ? 2 : 0, off_t(start)) }
        let gzip = magic.0 == 0x1F && magic.1 == 0x8B
        var trailer = (UInt8(0), UInt8(0), UInt8(0), UInt8(0))
        if gzip && size >= 18, withUnsafeMutableBytes(of: &trailer, { pread(fd, $0.baseAddress, 4, off_t(start + size - 4)) }) == 4 {
            contentSizeHint = Int(trailer.0) | Int(trailer.1) << 8 | Int(trailer.2) << 16 | Int(trailer.3) << 24
        } else {
            contentSizeHint = gzip ? 0 : size
        }
        if gzip && (!Self.zlibOnly || range != nil), let inflater = IgzipInflater(path: path, range: range == nil ? nil : ByteRange(offset: start, length: size)) {
            fast = inflater
            handle = nil
            plainRange = nil
            isCompressed = true
            return
        }
        if range != nil {
            guard !gzip else { throw HDF5Error.call(file: path, object: "/", operation: "open", detail: "the gzip inflater could not start") }
            keepOpen = true
            plainRange = (fd, start + size)
            position = start
            handle = nil
            fast = nil
            isCompressed = false
            return
        }
        plainRange = nil
        guard let handle = gzopen(path, "rb") else {
            throw HDF5Error.call(file: path, object: "/", operation: "gzopen", detail: String(cString: strerror(errno)))
        }
        gzbuffer(handle, 1 << 17)
        self.handle = handle
        fast = nil
        isCompressed = gzdirect(handle) == 0
    }

    deinit {
        if let handle { gzclose_r(handle) }
        if let plainRange { close(plainRange.fd) }
    }

    /// `BIOEMBED_ZLIB_ONLY` set: gzip is inflated by zlib, not ISA-L (read once, not per file).
    private static let zlibOnly = getenv("BIOEMBED_ZLIB_ONLY") != nil

    /// Reads up to `buffer.count` bytes; returns 0 at the end. A corrupt stream throws.
    public func read(into buffer: UnsafeMutableRawBufferPointer) throws(HDF5Error) -> Int {
        guard let base = buffer.baseAddress, buffer.count > 0 else { return 0 }
        if let fast { return try fast.read(into: buffer) }
        if let plainRange {
            let want = min(buffer.count, plainRange.end - position)
            guard want > 0 else { return 0 }
            let n = pread(plainRange.fd, base, want, off_t(position))
            if n < 0 { throw HDF5Error.call(file: path, object: "/", operation: "pread", detail: String(cString: strerror(errno))) }
            if n == 0 { throw HDF5Error.call(file: path, object: "/", operation: "pread", detail: "unexpected end of file") }
            position += n
            return n
        }
        guard let handle else { return 0 }
        let n = gzread(handle, base, UInt32(min(buffer.count, Int(Int32.max))))
        var code: Int32 = 0
        let message = gzerror(handle, &code).map { String(cString: $0) } ?? "unknown error"
        // A truncated stream reads its last bytes, then ends with Z_BUF_ERROR ("unexpected end of file").
        if n < 0 || (n == 0 && code != Z_OK) || code < 0 && code != Z_BUF_ERROR {
            throw HDF5Error.call(file: path, object: "/", operation: "gzread", detail: message)
        }
        return Int(n)
    }

    /// Calls `body` with each block of (decompressed) content, in order.
    public func forEachBlock(size: Int = 1 << 20, _ body: (UnsafeRawBufferPointer) throws -> Void) throws {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: size, alignment: 16)
        defer { buffer.deallocate() }
        while true {
            let n = try read(into: buffer)
            if n == 0 { break }
            try body(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
        }
    }

    /// The whole (decompressed) content.
    public static func readAll(_ path: String) throws -> [UInt8] {
        let reader = try CompressedFileReader(path)
        var bytes: [UInt8] = []
        if !reader.isCompressed, let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size]) as? Int {
            bytes.reserveCapacity(size)  // one allocation, no regrowth copies
        }
        try reader.forEachBlock { bytes.append(contentsOf: $0) }
        return bytes
    }

    /// CRC-32 (zlib's polynomial) of a block, continuing from `previous`.
    public static func crc32(_ bytes: UnsafeRawBufferPointer, previous: UInt32 = 0) -> UInt32 {
        guard let base = bytes.baseAddress else { return previous }
        return UInt32(CZlib.crc32(UInt(previous), base.assumingMemoryBound(to: UInt8.self), UInt32(bytes.count)))
    }
}
