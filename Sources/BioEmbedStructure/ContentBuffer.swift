import BioEmbedHDF5
import Foundation

/// The whole (decompressed) content of a file in one buffer sized from the file size and, for gzip,
/// the ISIZE trailer (so a file is read with one allocation, not a growing array).
struct ContentBuffer {
    private var base: UnsafeMutableRawPointer? = nil
    private var capacity = 0
    private var count = 0

    var content: UnsafeBufferPointer<UInt8> {
        guard let base else { return UnsafeBufferPointer(start: nil, count: 0) }
        return UnsafeBufferPointer(start: base.assumingMemoryBound(to: UInt8.self), count: count)
    }

    mutating func load(_ path: String) throws {
        let reader = try CompressedFileReader(path)
        var expected = 1 << 16
        // size (and, for gzip, the ISIZE trailer) with plain system calls: no Foundation file handle
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd >= 0 {
            defer { close(fd) }
            var status = stat()
            let size = fstat(fd, &status) == 0 ? Int(status.st_size) : 0
            var tail = (UInt8(0), UInt8(0), UInt8(0), UInt8(0))
            if reader.isCompressed && size >= 18, withUnsafeMutableBytes(of: &tail, { pread(fd, $0.baseAddress, 4, off_t(size - 4)) }) == 4 {
                let isize = Int(tail.0) | Int(tail.1) << 8 | Int(tail.2) << 16 | Int(tail.3) << 24
                expected = max(expected, isize + 1)   // ISIZE is mod 2^32; growth covers the rest
            } else if !reader.isCompressed {
                expected = max(expected, size + 1)
            }
        }
        grow(to: expected)
        while true {
            if count == capacity { grow(to: capacity * 2) }
            guard let base else { return }
            let n = try reader.read(into: UnsafeMutableRawBufferPointer(start: base + count, count: capacity - count))
            if n == 0 { break }
            count += n
        }
    }

    private mutating func grow(to newCapacity: Int) {
        let fresh = UnsafeMutableRawPointer.allocate(byteCount: newCapacity, alignment: 16)
        if let base {
            fresh.copyMemory(from: base, byteCount: count)
            base.deallocate()
        }
        base = fresh
        capacity = newCapacity
    }

    func deallocate() { base?.deallocate() }
}
