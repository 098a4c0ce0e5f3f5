import Foundation

/// The fields of a NIfTI-1 or NIfTI-2 header that BioEmbed uses, read as nibabel reads them.
///
/// - NIfTI-1: `sizeof_hdr` 348, magic `n+1` (single file) or `ni1` (pair); NIfTI-2: 540, `n+2`/`ni2`.
///   Either byte order (detected from `sizeof_hdr`).
/// - `affine` follows nibabel's `get_best_affine`: sform when `sform_code != 0`, else qform when
///   `qform_code != 0`, else the Analyze base affine (so a stray sform with code 0 is ignored).
/// - `repetitionTime` is `pixdim[4]` converted to seconds with the time bits of `xyzt_units`.
public struct NIfTIHeader: Sendable, Equatable {
    /// 1 or 2.
    public var version: Int
    public var littleEndian: Bool
    /// `dim[1...dim[0]]`, at least 3 entries (missing ones are 1).
    public var shape: [Int]
    public var datatype: Int
    public var bitpix: Int
    public var pixdim: [Double]
    public var voxOffset: Int
    public var sclSlope: Double
    public var sclInter: Double
    public var xyztUnits: Int
    public var qformCode: Int
    public var sformCode: Int
    public var quatern: [Double]
    public var qoffset: [Double]
    public var srow: [[Double]]

    /// Voxels per 3D volume.
    public var voxelsPerVolume: Int { shape[0] * shape[1] * shape[2] }
    /// Volumes (product of the dimensions after the third; 1 for a 3D image).
    public var volumeCount: Int { shape.dropFirst(3).reduce(1, *) }
    /// Grid of one volume.
    public var gridShape: [Int] { Array(shape.prefix(3)) }

    /// The storage type of the voxels.
    public var storage: NIfTIDataType? { NIfTIDataType(rawValue: datatype) }

    /// Whether `scl_slope`/`scl_inter` apply (nibabel: slope 0 or non-finite means no scaling).
    public var hasScaling: Bool { sclSlope != 0 && sclSlope.isFinite && !(sclSlope == 1 && (sclInter == 0 || !sclInter.isFinite)) }

    /// TR in seconds from `pixdim[4]` and `xyzt_units` (nil when not positive).
    public var repetitionTime: Double? {
        guard pixdim.count > 4, pixdim[4].isFinite, pixdim[4] > 0 else { return nil }
        switch xyztUnits & 0x38 {
        case 16: return pixdim[4] / 1000        // ms
        case 24: return pixdim[4] / 1_000_000   // µs
        default: return pixdim[4]               // s, or unset (seconds assumed)
        }
    }

    /// The 4×4 voxel-to-world affine, row-major, chosen as nibabel does.
    public var affine: [[Double]] {
        if sformCode != 0 { return srow + [[0, 0, 0, 1]] }
        if qformCode != 0 { return qformAffine }
        return baseAffine
    }

    /// The qform affine: rotation from the quaternion, zooms `pixdim[1...3]` (z times qfac), offsets.
    public var qformAffine: [[Double]] {
        let (b, c, d) = (quatern[0], quatern[1], quatern[2])
        let w2 = 1 - (b * b + c * c + d * d)
        let a = w2 < 0 ? 0 : w2.squareRoot()  // nibabel fillpositive: tiny negatives are rounding
        let n = a * a + b * b + c * c + d * d
        var r: [[Double]] = [[1, 0, 0], [0, 1, 0], [0, 0, 1]]
        if n >= Double.ulpOfOne {
            let s = 2 / n
            let (x, y, z) = (b * s, c * s, d * s)
            let (wx, wy, wz) = (a * x, a * y, a * z)
            let (xx, xy, xz) = (b * x, b * y, b * z)
            let (yy, yz, zz) = (c * y, c * z, d * z)
            r = [[1 - (yy + zz), xy - wz, xz + wy],
                 [xy + wz, 1 - (xx + zz), yz - wx],
                 [xz - wy, yz + wx, 1 - (xx + yy)]]
        }
        let qfac: Double = pixdim[0] < 0 ? -1 : 1
        let zooms = [pixdim[1], pixdim[2], pixdim[3] * qfac]
        var out: [[Double]] = []
        for i in 0..<3 { out.append([r[i][0] * zooms[0], r[i][1] * zooms[1], r[i][2] * zooms[2], qoffset[i]]) }
        return out + [[0, 0, 0, 1]]
    }

    /// Analyze convention: zooms on the diagonal, x flipped, origin at the volume's centre.
    public var baseAffine: [[Double]] {
        let z = [-pixdim[1], pixdim[2], pixdim[3]]
        var out: [[Double]] = []
        for i in 0..<3 {
            var row = [0.0, 0, 0, 0]
            row[i] = z[i]
            row[3] = -Double(shape[i] - 1) / 2 * z[i]
            out.append(row)
        }
        return out + [[0, 0, 0, 1]]
    }

    /// Parses a header from the first bytes of a file (348 for NIfTI-1, 540 for NIfTI-2 are enough).
    ///
    /// - Throws: `NeuroError.invalidInput` naming `file` when the bytes are not a NIfTI header or
    ///   announce something impossible (negative dimensions, an unknown datatype).
    public static func parse(_ bytes: [UInt8], file: String) throws(NeuroError) -> NIfTIHeader {
        guard bytes.count >= 348 else {
            throw .invalidInput(file: file, expected: "a NIfTI header of at least 348 bytes", found: "\(bytes.count) bytes")
        }
        let raw = HeaderBytes(bytes: bytes, little: true)
        let size = raw.int32(0)
        let swapped = HeaderBytes(bytes: bytes, little: false)
        let version: Int
        let little: Bool
        if size == 348 { (version, little) = (1, true) }
        else if swapped.int32(0) == 348 { (version, little) = (1, false) }
        else if size == 540 { (version, little) = (2, true) }
        else if swapped.int32(0) == 540 { (version, little) = (2, false) }
        else {
            throw .invalidInput(file: file, expected: "a NIfTI-1 (sizeof_hdr 348) or NIfTI-2 (540) header", found: "sizeof_hdr \(size)")
        }
        let h = HeaderBytes(bytes: bytes, little: little)
        if version == 2 {
            guard bytes.count >= 540 else {
                throw .invalidInput(file: file, expected: "a NIfTI-2 header of 540 bytes", found: "\(bytes.count) bytes")
            }
            let magic = String(decoding: bytes[4..<7], as: UTF8.self)
            guard magic == "n+2" || magic == "ni2" else {
                throw .invalidInput(file: file, expected: "NIfTI-2 magic 'n+2'", found: "'\(magic)'")
            }
            let dims = (0..<8).map { Int(h.int64(16 + 8 * $0)) }
            let header = NIfTIHeader(
                version: 2, littleEndian: little, shape: try shapeOf(dims, file: file),
                datatype: Int(h.int16(12)), bitpix: Int(h.int16(14)),
                pixdim: (0..<8).map { h.double(104 + 8 * $0) }, voxOffset: try offsetOf(Double(h.int64(168)), file: file),
                sclSlope: h.double(176), sclInter: h.double(184), xyztUnits: Int(h.int32(500)),
                qformCode: Int(h.int32(344)), sformCode: Int(h.int32(348)),
                quatern: [h.double(352), h.double(360), h.double(368)],
                qoffset: [h.double(376), h.double(384), h.double(392)],
                srow: (0..<3).map { r in (0..<4).map { h.double(400 + 32 * r + 8 * $0) } })
            return try header.validated(file: file)
        }
        let magic = String(decoding: bytes[344..<347], as: UTF8.self)
        guard magic == "n+1" || magic == "ni1" else {
            throw .invalidInput(file: file, expected: "NIfTI-1 magic 'n+1'", found: "'\(magic.filter { $0.isASCII && !$0.isWhitespace && $0 != "\0" })'")
        }
        let dims = (0..<8).map { Int(h.int16(40 + 2 * $0)) }
        let header = NIfTIHeader(
            version: 1, littleEndian: little, shape: try shapeOf(dims, file: file),
            datatype: Int(h.int16(70)), bitpix: Int(h.int16(72)),
            pixdim: (0..<8).map { Double(h.float(76 + 4 * $0)) }, voxOffset: try offsetOf(Double(h.float(108)), file: file),
            sclSlope: Double(h.float(112)), sclInter: Double(h.float(116)), xyztUnits: Int(bytes[123]),
            qformCode: Int(h.int16(252)), sformCode: Int(h.int16(254)),
            quatern: [Double(h.float(256)), Double(h.float(260)), Double(h.float(264))],
            qoffset: [Double(h.float(268)), Double(h.float(272)), Double(h.float(276))],
            srow: (0..<3).map { r in (0..<4).map { Double(h.float(280 + 16 * r + 4 * $0)) } })
        return try header.validated(file: file)
    }

    /// The largest number of data bytes a header may claim (2^48, 256 TiB): every size computed
    /// from the dimensions then fits an `Int` without overflow. What a file can really hold is
    /// checked against its size when it is read (`NIfTIReader`).
    static let maximumDataBytes = 1 << 48

    private static func shapeOf(_ dims: [Int], file: String) throws(NeuroError) -> [Int] {
        let n = dims[0]
        guard (1...7).contains(n) else {
            throw .invalidInput(file: file, expected: "dim[0] between 1 and 7", found: "\(n)")
        }
        var shape = Array(dims[1...n])
        guard shape.allSatisfy({ $0 >= 1 }) else {
            throw .invalidInput(file: file, expected: "positive dimensions", found: "dim = \(shape)")
        }
        // 8 bytes per voxel at most: the product in bytes must stay below the bound, checked
        // factor by factor so that no product overflows.
        var bytes = 8
        for d in shape {
            let (product, overflow) = bytes.multipliedReportingOverflow(by: d)
            guard !overflow, product <= maximumDataBytes else {
                throw .invalidInput(file: file, expected: "dimensions whose data fit in 2^48 bytes", found: "dim = \(shape)")
            }
            bytes = product
        }
        while shape.count < 3 { shape.append(1) }
        return shape
    }

    /// `vox_offset` (a float in NIfTI-1, an int64 in NIfTI-2) as a byte offset: finite and within
    /// `maximumDataBytes`.
    private static func offsetOf(_ value: Double, file: String) throws(NeuroError) -> Int {
        guard value.isFinite, value >= 0, value <= Double(maximumDataBytes) else {
            throw .invalidInput(file: file, expected: "vox_offset a number of bytes from 0 to 2^48", found: "\(value)")
        }
        return Int(value.rounded(.down))  // as nibabel: int(vox_offset)
    }

    private func validated(file: String) throws(NeuroError) -> NIfTIHeader {
        guard let type = storage else {
            throw .invalidInput(
                file: file, expected: "a real-valued datatype (uint8, int8, int16, uint16, int32, uint32, int64, uint64, float32, float64)",
                found: "datatype code \(datatype)")
        }
        guard bitpix == 0 || bitpix == type.size * 8 else {
            throw .invalidInput(file: file, expected: "bitpix \(type.size * 8) for \(type)", found: "bitpix \(bitpix)")
        }
        guard voxOffset >= 0 else {
            throw .invalidInput(file: file, expected: "a non-negative vox_offset", found: "\(voxOffset)")
        }
        if sclSlope != 0 && sclSlope.isFinite && !sclInter.isFinite {
            throw .invalidInput(file: file, expected: "a finite scl_inter with scl_slope \(sclSlope)", found: "\(sclInter)")
        }
        return self
    }
}
