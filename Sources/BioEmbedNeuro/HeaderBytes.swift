/// Typed reads at byte offsets of a header, in the file's byte order.
struct HeaderBytes {
    let bytes: [UInt8]
    let little: Bool

    func uint(_ offset: Int, _ count: Int) -> UInt64 {
        var v: UInt64 = 0
        for i in 0..<count {
            let b = UInt64(bytes[little ? offset + count - 1 - i : offset + i])
            v = (v << 8) | b
        }
        return v
    }
    func int16(_ o: Int) -> Int16 { Int16(truncatingIfNeeded: uint(o, 2)) }
    func int32(_ o: Int) -> Int32 { Int32(truncatingIfNeeded: uint(o, 4)) }
    func int64(_ o: Int) -> Int64 { Int64(bitPattern: uint(o, 8)) }
    func float(_ o: Int) -> Float { Float(bitPattern: UInt32(truncatingIfNeeded: uint(o, 4))) }
    func double(_ o: Int) -> Double { Double(bitPattern: uint(o, 8)) }
}
