/// MurmurHash3 x86_32 (Austin Appleby's public-domain algorithm), as the `mmh3` package computes
/// it for E3FP: the bytes of a little-endian int64 array, seed 0, signed 32-bit result.
public enum MurmurHash3 {
    /// Hashes `values` as little-endian int64 bytes. O(count), no allocation.
    @inlinable
    public static func x86_32(int64s values: UnsafeBufferPointer<Int64>, seed: UInt32 = 0) -> Int32 {
        let c1: UInt32 = 0xcc9e_2d51
        let c2: UInt32 = 0x1b87_3593
        var h = seed
        @inline(__always) func mixBlock(_ k: UInt32) {
            var k = k &* c1
            k = (k << 15) | (k >> 17)
            k = k &* c2
            h ^= k
            h = (h << 13) | (h >> 19)
            h = h &* 5 &+ 0xe654_6b64
        }
        for value in values {
            let bits = UInt64(bitPattern: value.littleEndian)
            mixBlock(UInt32(truncatingIfNeeded: bits))
            mixBlock(UInt32(truncatingIfNeeded: bits >> 32))
        }
        // int64 arrays have no tail bytes (length is a multiple of 4).
        h ^= UInt32(truncatingIfNeeded: values.count * 8)
        h ^= h >> 16
        h = h &* 0x85eb_ca6b
        h ^= h >> 13
        h = h &* 0xc2b2_ae35
        h ^= h >> 16
        return Int32(bitPattern: h)
    }

    /// Convenience over an array.
    public static func x86_32(int64s values: [Int64], seed: UInt32 = 0) -> Int32 {
        values.withUnsafeBufferPointer { x86_32(int64s: $0, seed: seed) }
    }
}
