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

    /// `sums[targets[i]] += value(voxels[i])` for the listed voxels only (the labels masker's inner
    /// loop: no conversion of voxels outside the atlas). A value that is not finite counts as 0, as
    /// nilearn's maskers replace NaN and ±Inf voxels with zeros; returns how many there were.
    static func accumulate(
        _ raw: UnsafeRawBufferPointer, type: NIfTIDataType, swap: Bool, slope: Double, inter: Double,
        voxels: UnsafeBufferPointer<Int32>, targets: UnsafeBufferPointer<Int32>, sums: UnsafeMutableBufferPointer<Double>
    ) -> Int {
        switch type {
        case .uint8: return gather(raw, UInt8.self, swap, slope, inter, voxels, targets, sums)
        case .int8: return gather(raw, Int8.self, swap, slope, inter, voxels, targets, sums)
        case .int16: return gather(raw, Int16.self, swap, slope, inter, voxels, targets, sums)
        case .uint16: return gather(raw, UInt16.self, swap, slope, inter, voxels, targets, sums)
        case .int32: return gather(raw, Int32.self, swap, slope, inter, voxels, targets, sums)
        case .uint32: return gather(raw, UInt32.self, swap, slope, inter, voxels, targets, sums)
        case .int64: return gather(raw, Int64.self, swap, slope, inter, voxels, targets, sums)
        case .uint64: return gather(raw, UInt64.self, swap, slope, inter, voxels, targets, sums)
        case .float32, .float64:
            let size = type.size
            var nonFinite = 0
            for i in 0..<voxels.count {
                let offset = size * Int(voxels[i])
                let v: Double
                if size == 4 {
                    var bits = raw.loadUnaligned(fromByteOffset: offset, as: UInt32.self)
                    if swap { bits = bits.byteSwapped }
                    v = Double(Float(bitPattern: bits)) * slope + inter
                } else {
                    var bits = raw.loadUnaligned(fromByteOffset: offset, as: UInt64.self)
                    if swap { bits = bits.byteSwapped }
                    v = Double(bitPattern: bits) * slope + inter
                }
                let finite = v.isFinite
                nonFinite &+= finite ? 0 : 1
                sums[Int(targets[i])] += finite ? v : 0
            }
            return nonFinite
        }
    }

    @inline(__always)
    private static func gather<T: FixedWidthInteger>(
        _ raw: UnsafeRawBufferPointer, _: T.Type, _ swap: Bool, _ slope: Double, _ inter: Double,
        _ voxels: UnsafeBufferPointer<Int32>, _ targets: UnsafeBufferPointer<Int32>, _ sums: UnsafeMutableBufferPointer<Double>
    ) -> Int {
        let size = MemoryLayout<T>.size
        var nonFinite = 0
        for i in 0..<voxels.count {
            var x = raw.loadUnaligned(fromByteOffset: size * Int(voxels[i]), as: T.self)
            if swap { x = x.byteSwapped }
            let v = Double(x) * slope + inter
            let finite = v.isFinite
            nonFinite &+= finite ? 0 : 1
            sums[Int(targets[i])] += finite ? v : 0
        }
        return nonFinite
    }
}
