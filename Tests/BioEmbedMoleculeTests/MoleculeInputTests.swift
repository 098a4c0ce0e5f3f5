import BioEmbedCore
import Foundation
import Testing
import _BioEmbedTestSupport

@testable import BioEmbedMolecule

/// Test inputs built from the fixture SDFs: multi-record files, V3000, gzip, and broken records.
enum MoleculeInputs {
    static func fixtureText(_ name: String) throws -> String {
        var text = try String(contentsOfFile: TestSupport.fixture("molecules/\(name).sdf"), encoding: .utf8)
        if !text.contains("$$$$") { text = text.trimmingCharacters(in: .newlines) + "\n$$$$\n" }
        return text
    }

    /// The MOL block (through `M  END`) of a fixture.
    static func molBlock(_ name: String) throws -> String {
        let text = try fixtureText(name)
        let end = try #require(text.range(of: "M  END"))
        return String(text[..<end.upperBound]) + "\n"
    }

    /// The same molecule written as a V3000 MOL block (charges from `M  CHG`).
    static func v3000(_ name: String) throws -> String {
        let lines = try molBlock(name).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let counts = lines[3]
        let atoms = Int(counts.prefix(3).trimmingCharacters(in: .whitespaces))!
        let bonds = Int(counts.dropFirst(3).prefix(3).trimmingCharacters(in: .whitespaces))!
        var charges: [Int: Int] = [:]
        for line in lines where line.hasPrefix("M  CHG") {
            let f = line.split(separator: " ").map(String.init)
            for k in stride(from: 3, to: f.count - 1, by: 2) { charges[Int(f[k])!] = Int(f[k + 1])! }
        }
        var out = [lines[0], lines[1], lines[2], "  0  0  0     0  0            999 V3000", "M  V30 BEGIN CTAB",
                   "M  V30 COUNTS \(atoms) \(bonds) 0 0 0", "M  V30 BEGIN ATOM"]
        for i in 0..<atoms {
            let l = lines[4 + i]
            let x = l.prefix(10).trimmingCharacters(in: .whitespaces)
            let y = l.dropFirst(10).prefix(10).trimmingCharacters(in: .whitespaces)
            let z = l.dropFirst(20).prefix(10).trimmingCharacters(in: .whitespaces)
            let symbol = l.dropFirst(31).prefix(3).trimmingCharacters(in: .whitespaces)
            let charge = charges[i + 1].map { " CHG=\($0)" } ?? ""
            out.append("M  V30 \(i + 1) \(symbol) \(x) \(y) \(z) 0\(charge)")
        }
        out += ["M  V30 END ATOM", "M  V30 BEGIN BOND"]
        for b in 0..<bonds {
            let l = lines[4 + atoms + b]
            let a1 = l.prefix(3).trimmingCharacters(in: .whitespaces)
            let a2 = l.dropFirst(3).prefix(3).trimmingCharacters(in: .whitespaces)
            let type = l.dropFirst(6).prefix(3).trimmingCharacters(in: .whitespaces)
            out.append("M  V30 \(b + 1) \(type) \(a1) \(a2)")
        }
        out += ["M  V30 END BOND", "M  V30 END CTAB", "M  END", ""]
        return out.joined(separator: "\n")
    }

    /// Aspirin with a 2D header and all z = 0 (RDKit marks the conformer 2D).
    static func flat2D() throws -> String {
        var lines = try molBlock("etkdg_aspirin").split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        lines[1] = lines[1].replacingOccurrences(of: "3D", with: "2D")
        let atoms = Int(lines[3].prefix(3).trimmingCharacters(in: .whitespaces))!
        for i in 0..<atoms {
            let l = lines[4 + i]
            lines[4 + i] = String(l.prefix(20)) + "    0.0000" + String(l.dropFirst(30))
        }
        return lines.joined(separator: "\n")
    }

    static let tetravalentNitrogen = "bad_valence\n  RDKit          3D\n\n  5  4  0  0  0  0  0  0  0  0999 V2000\n    0.0000    0.0000    0.0000 N   0  0  0  0  0  0  0  0  0  0  0  0\n    1.5000    0.0000    0.1000 C   0  0  0  0  0  0  0  0  0  0  0  0\n   -1.5000    0.0000    0.2000 C   0  0  0  0  0  0  0  0  0  0  0  0\n    0.0000    1.5000    0.3000 C   0  0  0  0  0  0  0  0  0  0  0  0\n    0.0000   -1.5000    0.4000 C   0  0  0  0  0  0  0  0  0  0  0  0\n  1  2  1  0\n  1  3  1  0\n  1  4  1  0\n  1  5  1  0\nM  END\n"

    /// A molecule with an R-group dummy atom (`*` in SMILES): SELFIES cannot encode it.
    static let dummyAtom = "rgroup\n  RDKit          3D\n\n  3  2  0  0  0  0  0  0  0  0999 V2000\n    0.0000    0.0000    0.0000 C   0  0  0  0  0  0  0  0  0  0  0  0\n    1.5000    0.0000    0.1000 C   0  0  0  0  0  0  0  0  0  0  0  0\n    2.2000    1.2000    0.3000 R#  0  0  0  0  0  0  0  0  0  0  0  0\n  1  2  1  0\n  2  3  1  0\nM  RGP  1   3   1\nM  END\n"

    static func write(_ text: String, to path: String) throws {
        try text.write(toFile: path, atomically: true, encoding: .utf8)
    }

    static func gzip(_ text: String, to path: String) throws {
        let raw = path + ".raw"
        try text.write(toFile: raw, atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", "gzip -c -n '\(raw)' > '\(path)' && rm '\(raw)'"]
        try process.run()
        process.waitUntilExit()
    }

    static func item(_ path: String) -> ManifestItem {
        ManifestItem(id: (path as NSString).lastPathComponent, index: 0, line: 1, fields: ["path": path], baseDirectory: "")
    }
}

@Suite(.serialized)
struct MoleculeInputTests {
    let stage = MoleculeTokenizeStage(.init())

    func run(_ path: String, stage: MoleculeTokenizeStage? = nil) throws -> (records: [ItemRecord], failures: [(String, String)]) {
        let outputs = try (stage ?? self.stage).outputs(MoleculeInputs.item(path), context: StageContext())
        var records: [ItemRecord] = []
        var failures: [(String, String)] = []
        for output in outputs {
            switch output {
            case let .record(r): records.append(r)
            case let .failure(id, message): failures.append((id, message))
            }
        }
        return (records, failures)
    }

    @Test func sdfReaderSplitsRecordsAndKeepsDataFields() throws {
        let text = try MoleculeInputs.fixtureText("cdk2_001") + MoleculeInputs.fixtureText("cdk2_002")
        let reader = SDFReader(text: text, file: "two.sdf")
        #expect(reader.records.count == 2)
        #expect(reader.records[0].title == "ZINC03814459")
        #expect(reader.records[0].dataFields.contains { $0.name == "r_mmffld_Potential_Energy-OPLS_2005" && $0.value == "-67.4705" })
        #expect(reader.records[1].index == 1)
        #expect(reader.records[1].line > reader.records[0].line)
        #expect(reader.records[0].molBlock.hasSuffix("M  END\n"))
        // A last record without `$$$$` is still a record; trailing blank lines are not.
        let noTerminator = try MoleculeInputs.molBlock("cdk2_003") + "\n\n"
        #expect(SDFReader(text: noTerminator, file: "x.sdf").records.count == 1)
        #expect(SDFReader(text: noTerminator + "$$$$\n\n  \n", file: "x.sdf").records.count == 1)
    }

    /// Several records per file (plain and gzip): ids `<file>#<record>`, tokens equal to the
    /// one-record files', SDF data fields kept as JSON.
    @Test func multiRecordFilesGiveOneItemPerRecord() throws {
        let dir = TestSupport.temporaryDirectory("molecules-multi")
        let names = ["cdk2_001", "cdk2_002", "etkdg_aspirin"]
        let text = try names.map(MoleculeInputs.fixtureText).joined()
        try MoleculeInputs.write(text, to: dir + "/lib.sdf")
        try MoleculeInputs.gzip(text, to: dir + "/lib.sdf.gz")
        for file in ["lib.sdf", "lib.sdf.gz"] {
            let (records, failures) = try run(dir + "/" + file)
            #expect(failures.isEmpty)
            #expect(records.map(\.id) == (0..<3).map { "\(file)#\($0)" })
            for (k, name) in names.enumerated() {
                let single = try run(TestSupport.fixture("molecules/\(name).sdf")).records[0]
                #expect(single.id == "\(name).sdf")
                #expect(records[k]["input_ids"] == single["input_ids"])
                #expect(records[k]["fp_tokens"] == single["fp_tokens"])
                #expect(records[k]["e3fp_bits"] == single["e3fp_bits"])
            }
            guard case let .strings(json)? = records[0]["sdf_fields"] else { Issue.record("no sdf_fields"); continue }
            #expect(json[0].contains("\"r_mmffld_Potential_Energy-OPLS_2005\":\"-67.4705\""))
        }
    }

    /// V3000 blocks give the same molecule and tokens as V2000.
    @Test(arguments: ["cdk2_000", "cdk2_026", "etkdg_glycine_zwitterion"])
    func v3000EqualsV2000(name: String) throws {
        let v2 = try RDKitMolecule(molBlock: MoleculeInputs.molBlock(name))
        let v3 = try RDKitMolecule(molBlock: MoleculeInputs.v3000(name))
        #expect(v3 == v2)
        let tokenizer = MoleculeTokenizer()
        #expect(try tokenizer.tokenize(v3, file: "v3", record: 0, line: 1) == tokenizer.tokenize(v2, file: "v2", record: 0, line: 1))
    }

    /// Every bad record fails alone with file, record, line and reason; the rest are written.
    @Test func badRecordsFailAloneWithFileRecordAndReason() throws {
        let dir = TestSupport.temporaryDirectory("molecules-bad")
        let path = dir + "/mixed.sdf"
        let good = try MoleculeInputs.fixtureText("cdk2_000")
        let records = [
            good,                                                   // 0 ok
            "junk\n\nnot a molfile\nat all\n$$$$\n",                // 1 unparsable
            MoleculeInputs.tetravalentNitrogen + "$$$$\n",          // 2 sanitization
            try MoleculeInputs.flat2D() + "$$$$\n",                 // 3 no 3D coordinates
            MoleculeInputs.dummyAtom + "$$$$\n",                    // 4 SELFIES cannot encode '*'
            try MoleculeInputs.fixtureText("etkdg_aspirin"),        // 5 ok
        ]
        try MoleculeInputs.write(records.joined(), to: path)
        let (written, failures) = try run(path)
        #expect(written.map(\.id) == ["mixed.sdf#0", "mixed.sdf#5"])
        #expect(failures.map(\.0) == ["mixed.sdf#1", "mixed.sdf#2", "mixed.sdf#3", "mixed.sdf#4"])
        let messages = failures.map(\.1)
        for (k, message) in messages.enumerated() {
            #expect(message.hasPrefix("\(path): record \(k + 1) (line "), "\(message)")
        }
        #expect(messages[0].contains("RDKit could not read"))
        #expect(messages[1].contains("Explicit valence"))
        #expect(messages[2].contains("no 3D coordinates"))
        #expect(messages[3].contains("SELFIES cannot encode"))
    }

    @Test func tokenOutsideTheVocabularyFailsTheMolecule() throws {
        let dir = TestSupport.temporaryDirectory("molecules-vocab")
        let lines = try String(contentsOfFile: TestSupport.repositoryRoot + "/data/molt5/selfies_dict.txt", encoding: .utf8)
            .split(separator: "\n").map(String.init)
        try (lines.filter { $0 != "[=O]" }.joined(separator: "\n") + "\n").write(toFile: dir + "/vocab.txt", atomically: true, encoding: .utf8)
        let stage = MoleculeTokenizeStage(.init(vocab: dir + "/vocab.txt"))
        let (records, failures) = try run(TestSupport.fixture("molecules/etkdg_aspirin.sdf"), stage: stage)
        #expect(records.isEmpty)
        #expect(failures.count == 1)
        #expect(failures.first?.1.contains("[=O] not in the 3D-MolT5 vocabulary") == true)
        // Molecules without the token still pass.
        #expect(try run(TestSupport.fixture("molecules/etkdg_e_propenylbenzene.sdf"), stage: stage).failures.isEmpty)
    }

    /// A cut gzip stream keeps the complete records and fails the cut one.
    @Test func truncatedGzipKeepsCompleteRecords() throws {
        let dir = TestSupport.temporaryDirectory("molecules-truncated")
        let names = ["cdk2_001", "cdk2_002", "cdk2_003", "cdk2_004"]
        let text = try names.map(MoleculeInputs.fixtureText).joined()
        try MoleculeInputs.gzip(text, to: dir + "/full.sdf.gz")
        let bytes = try Data(contentsOf: URL(fileURLWithPath: dir + "/full.sdf.gz"))
        let path = dir + "/cut.sdf.gz"
        try bytes.prefix(bytes.count * 3 / 4).write(to: URL(fileURLWithPath: path))
        let (records, failures) = try run(path)
        #expect(records.count >= 1 && records.count < names.count)
        #expect(records.map(\.id) == (0..<records.count).map { "cut.sdf.gz#\($0)" })
        #expect(failures.count == 1)
        #expect(failures.first?.0 == "cut.sdf.gz#\(records.count)")
        #expect(failures.first?.1.contains("\(path): record \(records.count): the gzip stream is truncated") == true)
    }

    @Test func emptyAndMissingFilesFailTheInput() throws {
        let dir = TestSupport.temporaryDirectory("molecules-empty")
        try MoleculeInputs.write("\n\n", to: dir + "/empty.sdf")
        #expect(throws: MoleculeError.self) { try run(dir + "/empty.sdf") }
        #expect(throws: MoleculeError.self) { try run(dir + "/missing.sdf") }
    }
}

/// E3FP's seen-substructure set agrees with `Set` for one-word (≤ 64 atoms, open addressing,
/// growing past its expected size) and multi-word bit sets.
@Suite
struct SubstructSetTests {
    @Test func agreesWithSet() {
        var rng = TestSupport.SplitMix(seed: 17)
        for words in [1, 3] {
            var fast = SubstructSet(wordsPerSet: words, expected: 4)
            var reference = Set<[UInt64]>()
            for _ in 0..<5000 {
                // few distinct values, so that repeats are common; never all zero
                let bits = (0..<words).map { w in (rng.next() % 97) | (w == 0 ? 1 : 0) }
                let inserted = bits.withUnsafeBufferPointer { fast.insert($0) }
                #expect(inserted == reference.insert(bits).inserted, "\(bits)")
            }
        }
    }
}

/// The stereo frame's latitude (sign, 0.01-rad bin, polar cone) from the cosine equals e3fp's
/// formula through `acos` everywhere, including cosines next to every bin edge, the cone's edge,
/// 0 and ±1; and the quadrant equals it next to π/4 and 3π/4.
@Suite
struct StereoFrameTests {
    @Test func latitudeAndQuadrantEqualTheFormula() {
        func reference(_ c: Double) -> (Int64, Int, Bool) {
            var angle = Double.pi / 2 - acos(c)
            if abs(angle) < 1e-12 { angle = 0 }
            let long = abs(angle)
            return (angle < 0 ? -1 : 1, Int(long / 0.01), Double.pi / 2 - long < Double.pi / 36)
        }
        var cosines: [Double] = [0, -0, 1, -1, 1e-13, -1e-13, 1e-10, -1e-10]
        var edges = (0...157).map { sin(0.01 * Double($0)) } + [cos(Double.pi / 36), 0.7071067811865476]
        edges += edges.map { -$0 }
        for edge in edges {
            var x = edge
            for _ in 0..<4 { cosines.append(x); x = x.nextUp }
            x = edge
            for _ in 0..<4 { x = x.nextDown; cosines.append(x) }
            cosines += [edge + 5e-10, edge - 5e-10, edge + 2e-9, edge - 2e-9]
        }
        var rng = TestSupport.SplitMix(seed: 23)
        for _ in 0..<100_000 { cosines.append(rng.nextDouble()) }
        for c in cosines where c >= -1 && c <= 1 {
            let fast = StereoIndicators.latitude(cosine: c)
            let slow = reference(c)
            #expect(fast.sign == slow.0 && fast.bin == slow.1 && fast.cone == slow.2, "cosine \(c)")
            for negative in [false, true] {
                var angle = (negative ? -1.0 : 1.0) * acos(c)
                angle = StereoIndicators.positiveModulo(angle, 2 * Double.pi)
                let rotated = StereoIndicators.positiveModulo(angle + Double.pi / 4, 2 * Double.pi)
                #expect(StereoIndicators.quadrant(cosine: c, negative: negative) == Int64(rotated * 4 / (2 * Double.pi)), "cosine \(c)")
            }
        }
    }
}

/// Cutting a plain SDF file into parts gives back exactly the records of reading it whole (indices,
/// lines, blocks), for part sizes that divide the count or not, with blank segments, CRLF line
/// ends and a last record without `$$$$`.
@Suite
struct SDFPartTests {
    @Test func partsTogetherAreTheWholeFile() throws {
        let good = try String(contentsOfFile: TestSupport.fixture("molecules/cdk2_000.sdf"), encoding: .utf8)
        let record = good.contains("$$$$") ? good : good.trimmingCharacters(in: .newlines) + "\n$$$$\n"
        let dir = TestSupport.temporaryDirectory("sdf-parts")
        let variants = [
            String(repeating: record, count: 12),
            String(repeating: record, count: 5) + "\n  \n$$$$\n" + String(repeating: record, count: 6) + record.replacingOccurrences(of: "$$$$\n", with: ""),
            String(repeating: record, count: 9).replacingOccurrences(of: "\n", with: "\r\n"),
        ]
        for (v, text) in variants.enumerated() {
            let path = dir + "/lib\(v).sdf"
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            let whole = try SDFReader(path: path).records
            for size in [1, 2, 3, 4, 5, 12, 100] {
                let (parts, count) = try #require(SDFReader.parts(path: path, recordsPerPart: size))
                #expect(count == whole.count, "variant \(v), parts of \(size)")
                var joined: [SDFRecord] = []
                for part in parts { joined += try SDFReader(path: path, part: part).records }
                #expect(joined == whole, "variant \(v), parts of \(size)")
                #expect(parts.count == max(1, (whole.count + size - 1) / size), "variant \(v), parts of \(size)")
            }
        }
    }
}
