/// Up to four ASCII characters packed into one integer (atom, residue and chain names).
///
/// Parsers store names this way so that reading an atom allocates nothing; byte `k` of the
/// name sits in bits `8k ..< 8k+8` and unused bytes are 0. Comparison is exact (case-sensitive).
public struct PackedName: Hashable, Sendable, CustomStringConvertible {
    public var raw: UInt32

    @inlinable public init(raw: UInt32) { self.raw = raw }

    /// Packs the bytes `bytes[range]` with leading and trailing blanks removed (at most 4 kept).
    @inlinable
    public init(trimming bytes: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int) {
        var s = start
        var e = end
        while s < e && (bytes[s] == 0x20 || bytes[s] == 0x09) { s += 1 }
        while e > s && (bytes[e - 1] == 0x20 || bytes[e - 1] == 0x09 || bytes[e - 1] == 0x0D) { e -= 1 }
        var value: UInt32 = 0
        var shift: UInt32 = 0
        var k = s
        while k < e && shift < 32 {
            value |= UInt32(bytes[k]) << shift
            shift += 8
            k += 1
        }
        raw = value
    }

    /// Packs a Swift string (first four UTF-8 bytes).
    public init(_ text: String) {
        var value: UInt32 = 0
        var shift: UInt32 = 0
        for byte in text.utf8.prefix(4) {
            value |= UInt32(byte) << shift
            shift += 8
        }
        raw = value
    }

    public var description: String {
        var bytes: [UInt8] = []
        var v = raw
        while v != 0 {
            bytes.append(UInt8(v & 0xFF))
            v >>= 8
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Number of characters.
    @inlinable public var count: Int { raw == 0 ? 0 : (32 - raw.leadingZeroBitCount + 7) / 8 }

    // Constants, not lazily initialised globals (these are compared for every atom).
    @inlinable public static var n: PackedName { PackedName(raw: 0x4E) }          // "N"
    @inlinable public static var ca: PackedName { PackedName(raw: 0x4143) }       // "CA"
    @inlinable public static var c: PackedName { PackedName(raw: 0x43) }          // "C"
    @inlinable public static var cb: PackedName { PackedName(raw: 0x4243) }       // "CB"
}
