import BioEmbedCore
import BioEmbedHDF5
import Foundation

/// The whole (decompressed) content of a file in one buffer sized from the file size or, for gzip,
/// the ISIZE trailer (`CompressedFileReader.contentSizeHint`), so a file is read with one
/// allocation, not a growing array.
struct ContentBuffer {
    private var base: UnsafeMutableRawPointer? = nil
    private var capacity = 0
    private var count = 0

    var content: UnsafeBufferPointer<UInt8> {
        guard let base else { return UnsafeBufferPointer(start: nil, count: 0) }
        return UnsafeBufferPointer(start: base.assumingMemoryBound(to: UInt8.self), count: count)
    }

    /// Reads the whole content of `path` (or of `range` of it: a tar member); more than `limit` bytes (default: the memory budget of
    /// one input) is refused, not allocated.
    mutating func load(_ path: String, range: ByteRange? = nil, limit: Int = MemoryBudget.perInput) throws {
        let reader = try CompressedFileReader(path, range: range)
        // sized from what the file states (ISIZE is modulo 2^32: growth covers the rest), never
        // beyond the limit (a truncated file's "trailer" can claim anything)
        let expected = min(max(1 << 16, reader.contentSizeHint + 1), limit + 1)
        grow(to: expected)
        while true {
            if count == capacity {
                guard capacity <= limit else {
                    throw StructureError.invalidInput(
                        file: path, expected: "at most \(MemoryBudget.describe(limit)) of (decompressed) content, the memory budget of one input",
                        found: "more")
                }
                grow(to: min(capacity * 2, limit + 1))
            }
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
