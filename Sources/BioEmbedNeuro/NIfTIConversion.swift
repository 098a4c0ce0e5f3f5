/// Raw voxel bytes → scaled `Double`s, one tight loop per datatype (no per-element allocation).
enum NIfTIConversion {
    static let hostLittle = 1.littleEndian == 1

    static func convert(
        _ raw: UnsafeRawBufferPointer, type: NIfTIDataType, swap: Bool, slope: Double, inter: Double,
        into out: UnsafeMutableBufferPointer<Double>
    ) {
        switch type {
        case .uint8: run(raw, UInt8.self, swap, slope, inter, out)
        case .int8: run(raw, Int8.self, swap, slope, inter, out)
        case .int16: run(raw, Int16.self, swap, slope, inter, out)
        case .uint16: run(raw, UInt16.self, swap, slope, inter, out)
        case .int32: run(raw, Int32.self, swap, slope, inter, out)
        case .uint32: run(raw, UInt32.self, swap, slope, inter, out)
        case .int64: run(raw, Int64.self, swap, slope, inter, out)
        case .uint64: run(raw, UInt64.self, swap, slope, inter, out)
        case .float32:
            let n = raw.count / 4
            for i in 0..<n {
                var bits = raw.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)
                if swap { bits = bits.byteSwapped }
                out[i] = Double(Float(bitPattern: bits)) * slope + inter
            }
        case .float64:
            let n = raw.count / 8
            for i in 0..<n {
                var bits = raw.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self)
                if swap { bits = bits.byteSwapped }
                out[i] = Double(bitPattern: bits) * slope + inter
            }
        }
    }

    @inline(__always)
    private static func run<T: FixedWidthInteger>(
        _ raw: UnsafeRawBufferPointer, _: T.Type, _ swap: Bool, _ slope: Double, _ inter: Double,
        _ out: UnsafeMutableBufferPointer<Double>
    ) {
        let size = MemoryLayout<T>.size
        let n = raw.count / size
        if swap {
            for i in 0..<n { out[i] = Double(raw.loadUnaligned(fromByteOffset: size * i, as: T.self).byteSwapped) * slope + inter }
        } else if slope == 1 && inter == 0 {
            for i in 0..<n { out[i] = Double(raw.loadUnaligned(fromByteOffset: size * i, as: T.self)) }
        } else {
            for i in 0..<n { out[i] = Double(raw.loadUnaligned(fromByteOffset: size * i, as: T.self)) * slope + inter }
        }
    }
}
