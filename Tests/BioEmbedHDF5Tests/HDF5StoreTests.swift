import BioEmbedCore
import Foundation
import Testing
import _BioEmbedTestSupport

@testable import BioEmbedHDF5

@Suite(.serialized)
struct HDF5StoreTests {
    let folder = TestSupport.temporaryDirectory("hdf5")

    @Test func numericDatasetsRoundTripWithChunksAndFilters() throws {
        let path = folder + "/numeric.h5"
        let file = try HDF5File.create(path)
        let f32 = (0..<600).map { Float($0) * 0.5 - 7 }
        let f64 = (0..<600).map { Double($0).squareRoot() }
        let i32 = (0..<600).map { Int32($0) - 300 }
        let i64 = (0..<600).map { Int64($0) * 1_000_000_007 }
        let u8 = (0..<600).map { UInt8($0 % 256) }
        try file.root.write("f32", f32, shape: [20, 30], chunks: [5, 30], compressed: true)
        try file.root.write("nested/deeper/f64", f64, shape: [600])
        try file.root.write("i32", i32, shape: [600], chunks: [100])
        try file.root.write("i64", i64, shape: [6, 100], compressed: true)
        try file.root.write("u8", u8, shape: [600])
        try file.commit()

        let back = try HDF5File.open(path)
        let d = try back.root.dataset("f32")
        #expect(d.shape == [20, 30])
        #expect(d.chunks == [5, 30])
        #expect(d.filters == ["shuffle", "gzip(1)"])
        #expect(d.elementType == .float32)
        #expect(try d.read(as: Float.self) == f32)
        #expect(try back.root.dataset("nested/deeper/f64").read(as: Double.self) == f64)
        #expect(try back.root.dataset("nested/deeper/f64").chunks == nil)
        #expect(try back.root.dataset("i32").read(as: Int32.self) == i32)
        #expect(try back.root.dataset("i64").read(as: Int64.self) == i64)
        #expect(try back.root.dataset("i64").shape == [6, 100])
        #expect(try back.root.dataset("u8").read(as: UInt8.self) == u8)
        #expect(try back.root.dataset("u8").typeName == "uint8")
        // Hyperslab: rows 3..<7 of the [20, 30] array.
        #expect(try d.readRows(3..<7, as: Float.self) == Array(f32[90..<210]))
        #expect(try back.root.group("nested").children().map(\.name) == ["deeper"])
    }

    @Test func rowsAreWrittenInPlaceAndObjectsCopiedBetweenFiles() throws {
        let sourcePath = folder + "/rows-source.h5", copyPath = folder + "/rows-copy.h5"
        let source = try HDF5File.create(sourcePath)
        let d = try source.root.createDataset("m", type: .float64, shape: [4, 2, 3], compressed: true)
        try d.setAttribute("note", .string("kept by the copy"))
        for k in [2, 0, 3, 1] { try d.writeRows(k..<(k + 1), (0..<6).map { Double(k * 10 + $0) }) }
        #expect(throws: HDF5Error.self) { try d.writeRows(0..<1, [1.0, 2.0]) }
        #expect(throws: HDF5Error.self) { try d.writeRows(3..<5, [Double](repeating: 0, count: 12)) }
        try source.commit()
        let expected = (0..<4).flatMap { k in (0..<6).map { Double(k * 10 + $0) } }
        let reopened = try HDF5File.open(sourcePath)
        #expect(try reopened.root.dataset("m").read(as: Double.self) == expected)
        let copy = try HDF5File.create(copyPath)
        try copy.root.createGroup("g").copy("m", from: reopened.root)
        #expect(throws: HDF5Error.self) { try copy.root.copy("absent", from: reopened.root) }
        try copy.commit()
        let back = try HDF5File.open(copyPath)
        let m = try back.root.dataset("g/m")
        #expect(m.shape == [4, 2, 3] && m.filters == ["shuffle", "gzip(1)"])
        #expect(try m.read(as: Double.self) == expected)
        #expect(try m.attribute("note") == .string("kept by the copy"))
    }

    @Test func appendableDatasetsGrowAlongTheFirstAxis() throws {
        let path = folder + "/append.h5"
        let file = try HDF5File.create(path)
        let dataset = try file.root.createDataset("rows", type: .float64, shape: [0, 3], appendable: true)
        var expected: [Double] = []
        for block in 0..<10 {
            let rows = (0..<(block * 3)).map { Double(block * 1000 + $0) }
            try dataset.append(rows)
            expected += rows
        }
        #expect(throws: HDF5Error.self) { try dataset.append([1.0, 2.0]) }  // not whole rows
        try file.commit()
        let back = try HDF5File.open(path).root.dataset("rows")
        #expect(back.shape == [expected.count / 3, 3])
        #expect(back.maxShape == [nil, 3])
        #expect(try back.read(as: Double.self) == expected)
    }

    @Test func stringsAndAttributesRoundTrip() throws {
        let path = folder + "/strings.h5"
        let file = try HDF5File.create(path)
        let words = ["alpha", "Ünïcödé ✓", "", "tab\there", String(repeating: "x", count: 5000)]
        let strings = try file.root.writeStrings("words", words)
        try strings.setAttribute("unit", "Å")
        try file.root.setAttribute("count", .int(42))
        try file.root.setAttribute("ratio", .double(0.25))
        try file.root.setAttribute("levels", .ints([1, 2, 3]))
        try file.root.setAttribute("weights", .doubles([0.5, -1.5]))
        try file.root.setJSONAttribute("config", ["b": 2, "a": 1])
        let appendable = try file.root.createDataset("more", type: .string, shape: [0], appendable: true)
        try appendable.appendStrings(["one"])
        try appendable.appendStrings(["two", "three"])
        try file.commit()

        let back = try HDF5File.open(path)
        #expect(try back.root.dataset("words").readStrings() == words)
        #expect(try back.root.dataset("words").readStrings(rows: 1..<3) == Array(words[1..<3]))
        #expect(try back.root.dataset("words").stringAttribute("unit") == "Å")
        #expect(try back.root.attribute("count") == .int(42))
        #expect(try back.root.attribute("ratio") == .double(0.25))
        #expect(try back.root.attribute("levels") == .ints([1, 2, 3]))
        #expect(try back.root.attribute("weights") == .doubles([0.5, -1.5]))
        #expect(try back.root.stringAttribute("config") == #"{"a":1,"b":2}"#)
        #expect(try back.root.attributeNames() == ["config", "count", "levels", "ratio", "weights"])
        #expect(try back.root.dataset("more").readStrings() == ["one", "two", "three"])
        #expect(try back.root.dataset("words").typeName == "vlen utf-8 string")
    }

    @Test func raggedCollectionStreamsItemsAndRejectsBadRecordsWhole() throws {
        let path = folder + "/collection.h5"
        let file = try HDF5File.create(path)
        let fields = [
            FieldSpec("score", .float64, .perItem(rowShape: [])),
            FieldSpec("embedding", .float32, .perItem(rowShape: [4])),
            FieldSpec("ca", .float32, .ragged(offsets: "residue_offsets", rowShape: [3])),
            FieldSpec("residue_number", .int32, .ragged(offsets: "residue_offsets", rowShape: []), compressed: true),
            FieldSpec("insertion_code", .string, .ragged(offsets: "residue_offsets", rowShape: [])),
        ]
        // A tiny flush size forces several block appends.
        let writer = try CollectionWriter(in: file.root, name: "items", fields: fields, flushBytes: 64)
        for k in 0..<7 {
            let length = k % 3 + 1
            try writer.append(ItemRecord(id: "item\(k)", values: [
                "score": .float64([Double(k)]),
                "embedding": .float32((0..<4).map { Float(k * 4 + $0) }),
                "ca": .float32((0..<(3 * length)).map { Float(k) + Float($0) / 10 }),
                "residue_number": .int32((0..<length).map { Int32($0 + 1) }),
                "insertion_code": .strings((0..<length).map { $0 == 0 ? "A" : "" }),
            ]))
        }
        // Rows disagree with the shared offsets: rejected, nothing written.
        #expect(throws: HDF5Error.self) {
            try writer.append(ItemRecord(id: "bad", values: [
                "score": .float64([0]), "embedding": .float32([0, 0, 0, 0]), "ca": .float32([0, 0, 0]),
                "residue_number": .int32([1, 2]), "insertion_code": .strings([""]),
            ]))
        }
        #expect(throws: HDF5Error.self) { try writer.append(ItemRecord(id: "item0", values: [:])) }
        try writer.finish()
        try file.writeRootAttributes(schema: "bioembed/test/1", command: "swift test")
        try file.commit()

        let back = try HDF5File.open(path)
        let reader = try CollectionReader(back.root.group("items"))
        #expect(reader.ids == (0..<7).map { "item\($0)" })
        #expect(try reader.offsets("residue_offsets") == [0, 1, 3, 6, 7, 9, 12, 13])
        #expect(try reader.rows("residue_number", offsets: "residue_offsets", item: 2, as: Int32.self) == [1, 2, 3])
        #expect(try back.root.dataset("items/embedding").shape == [7, 4])
        #expect(try back.root.dataset("items/ca").shape == [13, 3])
        #expect(try back.root.dataset("items/score").read(as: Double.self) == (0..<7).map(Double.init))
        #expect(try back.root.dataset("items/insertion_code").readStrings(rows: 3..<6) == ["A", "", ""])
        #expect(try back.root.dataset("items/residue_number").filters == ["shuffle", "gzip(1)"])
    }

    /// Compressed numeric fields are written as whole chunks deflated by ISA-L (direct chunk
    /// writes): read back through HDF5's own shuffle + gzip pipeline they equal what was appended,
    /// for 1-D and 2-D rows, batches that cross chunk boundaries, a partial last chunk, a chunk of
    /// random bytes that deflate cannot shrink (stored unfiltered), appends after `finish()`, and
    /// the merge path (`append(contentsOf:)`).
    @Test func compressedFieldsWrittenAsDeflatedChunksReadBack() throws {
        let path = folder + "/chunks.h5"
        let file = try HDF5File.create(path)
        let fields = [
            FieldSpec("knn", .int32, .ragged(offsets: "offsets", rowShape: [10]), compressed: true),
            FieldSpec("number", .int32, .ragged(offsets: "offsets", rowShape: []), compressed: true),
            FieldSpec("noise", .float64, .ragged(offsets: "offsets", rowShape: []), compressed: true),
            FieldSpec("flag", .uint8, .perItem(rowShape: [2]), compressed: true),
            FieldSpec("blob", .uint8, .ragged(offsets: "offsets", rowShape: [64]), compressed: true),
        ]
        let chunkRows = CollectionWriter.chunks(for: fields[0])[0]
        let writer = try CollectionWriter(in: file.root, name: "items", fields: fields, flushBytes: 50_000)
        var rng = TestSupport.SplitMix(seed: 21)
        var knn: [Int32] = [], number: [Int32] = [], noise: [Double] = [], flag: [UInt8] = [], blob: [UInt8] = []
        var item = 0
        func add(_ rows: Int) throws {
            let k = (0..<(rows * 10)).map { Int32(($0 * 7 + item) % 900) }
            let n = (0..<rows).map { Int32($0 + item) }
            let z = (0..<rows).map { _ in rng.nextDouble() }
            let f: [UInt8] = [UInt8(item % 256), 1]
            let b = (0..<(rows * 64)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }   // incompressible: stored unfiltered
            try writer.append(ItemRecord(id: "i\(item)", values: ["knn": .int32(k), "number": .int32(n), "noise": .float64(z), "flag": .uint8(f), "blob": .uint8(b)]))
            knn += k; number += n; noise += z; flag += f; blob += b
            item += 1
        }
        for rows in [1, 5, chunkRows - 3, 7, chunkRows * 2 + 1, 0, 300] { try add(rows) }
        try writer.finish()
        for rows in [11, chunkRows] { try add(rows) }   // after finish: the partial chunk is completed and rewritten
        try writer.finish()
        let copy = try CollectionWriter(in: file.root, name: "copy", fields: fields)
        try copy.append(contentsOf: try CollectionReader(file.root.group("items")), items: 0..<item)
        try copy.finish()
        try file.commit()

        let back = try HDF5File.open(path)
        for group in ["items", "copy"] {
            #expect(try back.root.dataset(group + "/knn").read(as: Int32.self) == knn, "\(group)")
            #expect(try back.root.dataset(group + "/knn").shape == [number.count, 10])
            #expect(try back.root.dataset(group + "/number").read(as: Int32.self) == number, "\(group)")
            #expect(try back.root.dataset(group + "/noise").read(as: Double.self) == noise, "\(group)")
            #expect(try back.root.dataset(group + "/flag").read(as: UInt8.self) == flag, "\(group)")
            #expect(try back.root.dataset(group + "/blob").read(as: UInt8.self) == blob, "\(group)")
            #expect(try back.root.dataset(group + "/knn").filters == ["shuffle", "gzip(1)"])
        }
    }

    /// Fixed-width string fields: one NUL-padded byte per row, read back as strings (h5py `S1`),
    /// longer or non-ASCII values rejected with the whole record, copied in blocks by the merge path.
    @Test func fixedWidthStringFields() throws {
        let path = folder + "/fixed.h5"
        let file = try HDF5File.create(path)
        let fields = [FieldSpec("code", .string, .ragged(offsets: "code_offsets", rowShape: []), compressed: true, fixedWidth: 1)]
        let writer = try CollectionWriter(in: file.root, name: "items", fields: fields, flushBytes: 8)
        try writer.append(ItemRecord(id: "a", values: ["code": .strings([" ", "A", ""])]))
        #expect(throws: HDF5Error.self) { try writer.append(ItemRecord(id: "long", values: ["code": .strings(["AB"])])) }
        #expect(throws: HDF5Error.self) { try writer.append(ItemRecord(id: "utf8", values: ["code": .strings(["é"])])) }
        try writer.append(ItemRecord(id: "b", values: ["code": .strings(["Z"])]))
        let copy = try CollectionWriter(in: file.root, name: "copy", fields: fields)
        try writer.finish()
        try copy.append(contentsOf: try CollectionReader(file.root.group("items")), items: 0..<2)
        try copy.finish()
        try file.commit()

        let back = try HDF5File.open(path)
        for group in ["items", "copy"] {
            let dataset = try back.root.dataset(group + "/code")
            #expect(dataset.fixedStringWidth == 1)
            #expect(try dataset.readStrings() == [" ", "A", "", "Z"], "\(group)")
            #expect(try CollectionReader(back.root.group(group)).ids == ["a", "b"])
        }
    }

    @Test func uncommittedFilesNeverAppearUnderTheFinalName() throws {
        let path = folder + "/atomic.h5"
        do {
            let file = try HDF5File.create(path)
            try file.root.write("x", [1.0, 2.0])
            #expect(!FileManager.default.fileExists(atPath: path))
            #expect(FileManager.default.fileExists(atPath: file.workingPath))
            file.close()  // abandoned: the temporary file goes too
            #expect(!FileManager.default.fileExists(atPath: file.workingPath))
        }
        #expect(!FileManager.default.fileExists(atPath: path))
        // Updating keeps the old complete file until the new one is committed.
        let first = try HDF5File.create(path)
        try first.root.write("x", [1.0])
        try first.commit()
        let update = try HDF5File.update(path)
        try update.root.write("y", [2.0])
        #expect(try HDF5File.open(path).root.contains("y") == false)
        try update.commit()
        let back = try HDF5File.open(path)
        #expect(back.root.contains("x") && back.root.contains("y"))
    }

    @Test func badPathsGiveOneClearError() throws {
        let missing = folder + "/nope.h5"
        #expect(throws: HDF5Error.missingFile(file: missing)) { try HDF5File.open(missing) }
        let text = folder + "/text.h5"
        try "not hdf5".write(toFile: text, atomically: true, encoding: .utf8)
        #expect(throws: HDF5Error.notHDF5(file: text)) { try HDF5File.open(text) }
        let file = try HDF5File.create(folder + "/small.h5")
        try file.root.write("x", [1.0])
        #expect(throws: HDF5Error.missingObject(file: folder + "/small.h5", object: "/y")) { try file.root.dataset("y") }
        #expect(throws: HDF5Error.self) { try file.root.dataset("x").readStrings() }
        file.close()
    }

    /// Writes the file that `Tests/python/test_store_h5py.py` reads back with h5py.
    @Test func writeArtifactForH5py() throws {
        let path = TestSupport.artifactsDirectory() + "/store_roundtrip.h5"
        let file = try HDF5File.create(path)
        try file.writeRootAttributes(schema: "bioembed/test/1", command: "swift test")
        try file.root.write("f32", (0..<1200).map { Float($0) / 8 }, shape: [40, 30], chunks: [8, 30], compressed: true)
        try file.root.write("f64", (0..<100).map { Double($0) * 0.1 }, shape: [100])
        try file.root.write("i32", (0..<50).map { Int32($0) - 25 }, shape: [50])
        try file.root.write("i64", (0..<50).map { Int64($0) << 40 }, shape: [5, 10])
        try file.root.write("u8", (0..<256).map { UInt8($0) }, shape: [256])
        try file.root.writeStrings("words", ["alpha", "Ünïcödé ✓", ""])
        try file.root.setAttribute("unit", "Å")
        try file.root.setAttribute("count", .int(42))
        try file.root.setAttribute("ratio", .double(0.25))
        try file.root.setJSONAttribute("config", ["k": 10])
        let writer = try CollectionWriter(in: file.root, name: "items", fields: [
            FieldSpec("ca", .float32, .ragged(offsets: "residue_offsets", rowShape: [3])),
            FieldSpec("tokens", .string, .perItem(rowShape: [])),
        ])
        for k in 0..<5 {
            try writer.append(ItemRecord(id: "chain\(k)", values: [
                "ca": .float32((0..<(3 * (k + 1))).map { Float(k * 100 + $0) }), "tokens": .strings([String(repeating: "D", count: k + 1)]),
            ]))
        }
        try writer.finish()
        try file.commit()
        #expect(FileManager.default.fileExists(atPath: path))
    }
}
