import Foundation
import Testing
import _BioEmbedTestSupport

@testable import BioEmbedNeuro

/// Header variants written byte by byte: NIfTI-1/2, both byte orders, every datatype, scaling,
/// qform/sform choice, time units; and the streamed volumes read back.
@Suite(.serialized)
struct NIfTIReaderTests {
    /// Writes a minimal single-file NIfTI image with `values` (x fastest) stored as `type`.
    static func write(
        _ path: String, version: Int = 1, little: Bool = true, shape: [Int], type: NIfTIDataType, values: [Double],
        slope: Double = 0, inter: Double = 0, pixdim: [Double] = [1, 2, 2, 2, 1.5, 0, 0, 0], units: Int = 10,
        qformCode: Int = 1, sformCode: Int = 0, quatern: [Double] = [0, 0, 0], qoffset: [Double] = [-10, -20, -30],
        srow: [[Double]] = [[9, 0, 0, 1], [0, 9, 0, 2], [0, 0, 9, 3]], gzip: Bool = false
    ) throws {
        let size = version == 1 ? 348 : 540
        let offset = version == 1 ? 352 : 544
        var h = [UInt8](repeating: 0, count: offset)
        func put<T: FixedWidthInteger>(_ v: T, _ o: Int) {
            let x = little ? v.littleEndian : v.bigEndian
            withUnsafeBytes(of: x) { for (i, b) in $0.enumerated() { h[o + i] = b } }
        }
        func putF(_ v: Double, _ o: Int) { version == 1 ? put(Float(v).bitPattern, o) : put(v.bitPattern, o) }
        put(Int32(size), 0)
        var dims = [shape.count] + shape
        while dims.count < 8 { dims.append(1) }
        if version == 1 {
            for (i, d) in dims.enumerated() { put(Int16(d), 40 + 2 * i) }
            put(Int16(type.rawValue), 70); put(Int16(type.size * 8), 72)
            for (i, p) in pixdim.enumerated() { putF(p, 76 + 4 * i) }
            putF(Double(offset), 108); putF(slope, 112); putF(inter, 116)
            h[123] = UInt8(units)
            put(Int16(qformCode), 252); put(Int16(sformCode), 254)
            for i in 0..<3 { putF(quatern[i], 256 + 4 * i); putF(qoffset[i], 268 + 4 * i) }
            for r in 0..<3 { for c in 0..<4 { putF(srow[r][c], 280 + 16 * r + 4 * c) } }
            h[344] = UInt8(ascii: "n"); h[345] = UInt8(ascii: "+"); h[346] = UInt8(ascii: "1")
        } else {
            h[4] = UInt8(ascii: "n"); h[5] = UInt8(ascii: "+"); h[6] = UInt8(ascii: "2"); h[8] = 0x0D; h[9] = 0x0A; h[10] = 0x1A; h[11] = 0x0A
            put(Int16(type.rawValue), 12); put(Int16(type.size * 8), 14)
            for (i, d) in dims.enumerated() { put(Int64(d), 16 + 8 * i) }
            for (i, p) in pixdim.enumerated() { putF(p, 104 + 8 * i) }
            put(Int64(offset), 168); putF(slope, 176); putF(inter, 184)
            put(Int32(qformCode), 344); put(Int32(sformCode), 348)
            for i in 0..<3 { putF(quatern[i], 352 + 8 * i); putF(qoffset[i], 376 + 8 * i) }
            for r in 0..<3 { for c in 0..<4 { putF(srow[r][c], 400 + 32 * r + 8 * c) } }
            put(Int32(units), 500)
        }
        var data: [UInt8] = []
        for v in values {
            func add<T: FixedWidthInteger>(_ x: T) { withUnsafeBytes(of: little ? x.littleEndian : x.bigEndian) { data += $0 } }
            switch type {
            case .uint8: add(UInt8(v))
            case .int8: add(Int8(v))
            case .int16: add(Int16(v))
            case .uint16: add(UInt16(v))
            case .int32: add(Int32(v))
            case .uint32: add(UInt32(v))
            case .int64: add(Int64(v))
            case .uint64: add(UInt64(v))
            case .float32: add(Float(v).bitPattern)
            case .float64: add(v.bitPattern)
            }
        }
        let bytes = h + data
        if gzip {
            let raw = path + ".raw"
            try Data(bytes).write(to: URL(fileURLWithPath: raw))
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/bin/sh")
            p.arguments = ["-c", "gzip -c '\(raw)' > '\(path)' && rm '\(raw)'"]
            try p.run(); p.waitUntilExit()
        } else {
            try Data(bytes).write(to: URL(fileURLWithPath: path))
        }
    }

    let folder = TestSupport.temporaryDirectory("nifti")

    @Test(arguments: [NIfTIDataType.uint8, .int8, .int16, .uint16, .int32, .uint32, .int64, .uint64, .float32, .float64])
    func everyDatatypeInBothByteOrdersAndVersions(type: NIfTIDataType) throws {
        let shape = [3, 4, 2, 5]
        let values = (0..<120).map { Double($0 % 97) }
        for version in [1, 2] {
            for little in [true, false] {
                let path = folder + "/t\(type.rawValue)-\(version)-\(little).nii\(version == 2 ? ".gz" : "")"
                try Self.write(path, version: version, little: little, shape: shape, type: type, values: values, gzip: version == 2)
                let reader = try NIfTIReader(path)
                #expect(reader.header.version == version && reader.header.littleEndian == little)
                #expect(reader.header.shape == shape && reader.header.volumeCount == 5)
                var all: [Double] = []
                var volume: [Double] = []
                for _ in 0..<5 { try reader.readVolume(into: &volume); all += volume }
                #expect(all == values)
            }
        }
    }

    @Test func scalingIsAppliedUnlessTheSlopeIsZero() throws {
        let path = folder + "/scaled.nii"
        try Self.write(path, shape: [2, 2, 1, 2], type: .int16, values: [-12, 0, 1, 2, 3, 4, 5, 6], slope: 4, inter: 50)
        #expect(try NIfTIReader.readAll(path).data == [2, 50, 54, 58, 62, 66, 70, 74])
        try Self.write(path, shape: [2, 2, 1, 2], type: .int16, values: [-12, 0, 1, 2, 3, 4, 5, 6], slope: 0, inter: 50)
        #expect(try NIfTIReader.readAll(path).data == [-12, 0, 1, 2, 3, 4, 5, 6])
    }

    @Test func affineFollowsNibabel() throws {
        let path = folder + "/affine.nii"
        // sform_code 0 with a nonsense sform: the qform is used.
        try Self.write(path, shape: [4, 4, 4, 2], type: .uint8, values: [Double](repeating: 1, count: 128), qformCode: 1, sformCode: 0)
        var h = try NIfTIReader.header(of: path)
        #expect(h.affine == [[2, 0, 0, -10], [0, 2, 0, -20], [0, 0, 2, -30], [0, 0, 0, 1]])
        // qfac −1 flips z; a 180° rotation about z (b, c, d) = (0, 0, 1).
        try Self.write(path, shape: [4, 4, 4, 2], type: .uint8, values: [Double](repeating: 1, count: 128), pixdim: [-1, 2, 3, 4, 1, 0, 0, 0], quatern: [0, 0, 1])
        h = try NIfTIReader.header(of: path)
        #expect(h.affine == [[-2, 0, 0, -10], [0, -3, 0, -20], [0, 0, -4, -30], [0, 0, 0, 1]])
        // sform_code > 0 wins.
        try Self.write(path, shape: [4, 4, 4, 2], type: .uint8, values: [Double](repeating: 1, count: 128), sformCode: 4)
        #expect(try NIfTIReader.header(of: path).affine == [[9, 0, 0, 1], [0, 9, 0, 2], [0, 0, 9, 3], [0, 0, 0, 1]])
        // neither: the Analyze base affine (x flipped, centred).
        try Self.write(path, shape: [4, 4, 4, 2], type: .uint8, values: [Double](repeating: 1, count: 128), qformCode: 0, sformCode: 0)
        #expect(try NIfTIReader.header(of: path).affine == [[-2, 0, 0, 3], [0, 2, 0, -3], [0, 0, 2, -3], [0, 0, 0, 1]])
    }

    @Test func repetitionTimeUsesTheTimeUnits() throws {
        let path = folder + "/tr.nii"
        try Self.write(path, shape: [2, 2, 2, 3], type: .uint8, values: [Double](repeating: 1, count: 24), pixdim: [1, 2, 2, 2, 720, 0, 0, 0], units: 2 | 16)
        #expect(try NIfTIReader.header(of: path).repetitionTime == 0.72)
        try Self.write(path, shape: [2, 2, 2, 3], type: .uint8, values: [Double](repeating: 1, count: 24), pixdim: [1, 2, 2, 2, 0, 0, 0, 0])
        #expect(try NIfTIReader.header(of: path).repetitionTime == nil)
    }

    @Test func malformedFilesGiveOneClearError() throws {
        let path = folder + "/bad.nii"
        try Data("not a nifti file at all".utf8 + [UInt8](repeating: 0, count: 400)).write(to: URL(fileURLWithPath: path))
        #expect(throws: NeuroError.self) { try NIfTIReader(path) }
        do { _ = try NIfTIReader(path); Issue.record("no error") } catch {
            #expect("\(error)".contains(path) && "\(error)".contains("sizeof_hdr"))
        }
        try Self.write(path, shape: [2, 2, 2, 3], type: .int16, values: [Double](repeating: 1, count: 24))
        let full = try Data(contentsOf: URL(fileURLWithPath: path))
        try full.prefix(full.count - 10).write(to: URL(fileURLWithPath: path))
        do { _ = try NIfTIReader.readAll(path); Issue.record("no error") } catch {
            #expect("\(error)".contains("truncated") && "\(error)".contains(path))
        }
    }
}
