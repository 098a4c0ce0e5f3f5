@testable import BioEmbedStructure
import Foundation
import Testing
import _BioEmbedTestSupport

/// Reader edge cases written inline: mmCIF quoting and text fields, auth vs label columns,
/// altloc policies, hybrid-36 numbers, legacy columns 73–80, models, blank chains, ligands.
@Suite
struct StructureReaderTests {
    static func parse(_ text: String, format: StructureFormat? = nil, allModels: Bool = false) throws -> StructureModel {
        let bytes = Array(text.utf8)
        return try bytes.withUnsafeBufferPointer { try StructureReader.parse($0, file: "inline", format: format, allModels: allModels) }
    }

    static func atom(_ serial: Int, _ name: String, _ res: String, _ chain: String, _ seq: Int, _ x: Double,
                     record: String = "ATOM  ", alt: String = " ", icode: String = " ", occ: Double = 1, tail: String = "           C") -> String {
        let padded = name.count < 4 ? " " + name.padding(toLength: 3, withPad: " ", startingAt: 0) : name
        return record + String(format: "%5d", serial) + " " + padded + alt + res.padding(toLength: 3, withPad: " ", startingAt: 0)
            + " " + chain + String(format: "%4d", seq) + icode + "   " + String(format: "%8.3f%8.3f%8.3f%6.2f%6.2f", x, 0.0, 0.0, occ, 10.0) + tail
    }

    /// A helix-like chain of `n` residues with N, CA, C, CB atoms.
    static func chainLines(_ chain: String, _ n: Int, start: Int = 1) -> [String] {
        var lines: [String] = []
        for i in 0..<n {
            let t = Double(i)
            for (k, name) in ["N", "CA", "C", "CB"].enumerated() {
                lines.append(atom(4 * i + k + 1, name, "ALA", chain, start + i, 3.8 * t + Double(k) * 0.5))
            }
        }
        return lines
    }

    @Test func mmcifQuotesTextFieldsAndAuthColumns() throws {
        let cif = """
            data_x
            _entry.id 'it''s fine'
            _struct.title
            ;A multi-line
            title with 'quotes' and "double" ones
            ;
            loop_
            _entity.id
            _entity.type
            1 polymer
            2 water
            loop_
            _atom_site.group_PDB
            _atom_site.label_atom_id
            _atom_site.label_comp_id
            _atom_site.label_asym_id
            _atom_site.auth_asym_id
            _atom_site.label_seq_id
            _atom_site.auth_seq_id
            _atom_site.pdbx_PDB_ins_code
            _atom_site.label_alt_id
            _atom_site.Cartn_x
            _atom_site.Cartn_y
            _atom_site.Cartn_z
            _atom_site.occupancy
            _atom_site.label_entity_id
            _atom_site.pdbx_PDB_model_num
            ATOM "CA" MSE A X 1 10 A . 1.5 2.5 3.5 1.0 1 1
            ATOM "O5'" MSE A X 1 10 A . 1.0 2.0 3.0 1.0 1 1
            HETATM O HOH B X . 500 ? . 9.0 9.0 9.0 1.0 2 1
            ATOM CA GLY A X 2 11 ? . 4.0 0.0 0.0 1.0 1 1
            ATOM CA GLY A X 2 11 ? . 4.0 0.0 0.0 1.0 1 2
            """
        let model = try Self.parse(cif)
        #expect(model.chainNames == ["X"])
        #expect(model.atomNames.map(\.description).contains("O5'"))
        let chains = ChainExtractor.chains(model)
        #expect(chains.count == 1)
        #expect(chains[0].residueNumbers == [10, 11])
        #expect(chains[0].insertionCodes == [UInt8(ascii: "A"), 0x20])
        #expect(chains[0].sequenceString == "MG")
        #expect(chains[0].ca[0...2] == [1.5, 2.5, 3.5])
        #expect(try Self.parse(cif, allModels: true).modelNumbers == [1, 2])
    }

    /// Reading stops at model 2 of `_atom_site`; an `_entity` table after the atoms is still read
    /// (the rest of the atom loop skipped), and every model is read with `allModels`.
    @Test func mmcifStopsAfterModelOneButStillReadsALaterEntityTable() throws {
        func atoms(_ model: Int) -> String {
            (1...4).map { "ATOM CA GLY A \($0) \(Double($0) * 3.8) 0 0 1 \(model)" }.joined(separator: "\n")
                + "\nATOM CA ALA B 1 0 9 9 2 \(model)"
        }
        let cif = """
            data_x
            loop_
            _atom_site.group_PDB
            _atom_site.label_atom_id
            _atom_site.label_comp_id
            _atom_site.auth_asym_id
            _atom_site.auth_seq_id
            _atom_site.Cartn_x
            _atom_site.Cartn_y
            _atom_site.Cartn_z
            _atom_site.label_entity_id
            _atom_site.pdbx_PDB_model_num
            \(atoms(1))
            \(atoms(2))
            \(atoms(3))
            loop_
            _entity.id
            _entity.type
            1 polymer
            2 non-polymer
            """
        let first = try Self.parse(cif)
        #expect(first.modelNumbers == [1])
        #expect(first.atomCount == 5)
        #expect(ChainExtractor.chains(first).map(\.name) == ["A"])  // entity 2 is non-polymer
        let all = try Self.parse(cif, allModels: true)
        #expect(all.modelNumbers == [1, 2, 3])
        #expect(all.atomCount == 15)
        // a value missing in model 3 still breaks the loop, even when only model 1 is kept
        let broken = cif.replacingOccurrences(of: "ATOM CA ALA B 1 0 9 9 2 3", with: "ATOM CA ALA B 1 0 9 2 3")
        #expect(throws: StructureError.self) { try Self.parse(broken) }
    }

    /// Coordinates parse to the correctly rounded double (as `Double(String)`), on the fast path
    /// (`-12.345`) and the general one (exponents, uncertainties, many digits).
    @Test func decimalNumbersAreCorrectlyRounded() {
        var rng = TestSupport.SplitMix(seed: 5)
        var texts = ["0", "-0.000", "1.", ".5", "-.5", "+1.25", "1e3", "2.5E-2", "123456789.123456", "0.1234567890123456789", "-999.999"]
        for _ in 0..<20_000 {
            let whole = Int(abs(rng.nextDouble()) * 10_000)
            let places = Int(abs(rng.nextDouble()) * 8)
            var text = "\(rng.nextDouble() < 0 ? "-" : "")\(whole)"
            if places > 0 { text += "." + (0..<places).map { _ in String(Int(abs(rng.nextDouble()) * 10)) }.joined() }
            texts.append(text)
        }
        for text in texts {
            let bytes = Array(text.utf8)
            let parsed = bytes.withUnsafeBufferPointer { CIFNumber.parse($0, 0, $0.count) }
            #expect(parsed?.bitPattern == Double(text)?.bitPattern, "\(text)")
        }
        for bad in ["", "-", ".", "1.2.3", "1e", "abc", "1.5(3"] {
            let bytes = Array(bad.utf8)
            #expect(bytes.withUnsafeBufferPointer { CIFNumber.parse($0, 0, $0.count) } == nil, "\(bad)")
        }
        let withUncertainty = Array("1.234(5)".utf8)
        #expect(withUncertainty.withUnsafeBufferPointer { CIFNumber.parse($0, 0, $0.count) } == 1.234)
    }

    @Test func packedNameConstantsAreTheirNames() {
        #expect(PackedName.n == PackedName("N") && PackedName.ca == PackedName("CA"))
        #expect(PackedName.c == PackedName("C") && PackedName.cb == PackedName("CB"))
        #expect(PackedName.ca.description == "CA" && PackedName.cb.count == 2)
    }

    /// The PDB `%8.3f` coordinate shortcut gives the bits of the general parser (and of
    /// `Double(String)`) for every value it accepts, accepts every `%8.3f` field, and declines
    /// anything else (other widths of fraction, junk, blanks), which then goes to the general parser.
    @Test func pdbCoordinateShortcutAgreesWithTheGeneralParser() {
        var rng = TestSupport.SplitMix(seed: 8)
        var fields = ["   0.000", "  -0.000", "-999.999", "9999.999", "   -.123", "  12.34 ", " 12.3456", "  1e-3  ", "        ",
                      "  ab.cde", "- 12.345", "  12,345", "  +1.250", "1234.5678"]
        for _ in 0..<50_000 {
            let value = rng.nextDouble() * (abs(rng.nextDouble()) < 0.5 ? 10 : 9_999.999)
            let thousandths = Int((value * 1000).rounded())
            let magnitude = abs(thousandths)
            var text = "\(magnitude / 1000).\(String(repeating: "0", count: 3 - String(magnitude % 1000).count))\(magnitude % 1000)"
            if thousandths < 0 { text = "-" + text }
            guard text.count <= 8 else { continue }
            fields.append(String(repeating: " ", count: 8 - text.count) + text)
        }
        for field in fields {
            let bytes = Array(field.utf8) + Array(repeating: UInt8(ascii: " "), count: max(0, 8 - field.utf8.count))
            let (fast, general) = bytes.withUnsafeBufferPointer { ($0.baseAddress.flatMap { PDBReader.coordinate($0) }, PDBReader.parseDecimal($0, 0, 8)) }
            let trimmed = field.trimmingCharacters(in: .whitespaces)
            let isPDBFormat = trimmed.range(of: #"^-?[0-9]{1,4}\.[0-9]{3}$"#, options: .regularExpression) != nil && field.utf8.count == 8
            if isPDBFormat {
                #expect(fast?.bitPattern == general?.bitPattern && fast?.bitPattern == Double(trimmed)?.bitPattern, "'\(field)'")
            } else {
                #expect(fast == nil || fast?.bitPattern == general?.bitPattern, "'\(field)'")
            }
        }
        // occupancies (%6.2f) the same way
        for text in ["  1.00", "  0.50", "  0.00", " -1.25", "999.99", "  1.0 ", "  .50 ", "1.5e-1", "      "] {
            let bytes = Array(text.utf8)
            let (fast, general) = bytes.withUnsafeBufferPointer { ($0.baseAddress.flatMap { PDBReader.fixedDecimal($0, width: 6, fraction: 2) }, PDBReader.parseDecimal($0, 0, 6)) }
            let formatted = text.range(of: #"^ *-?[0-9]+\.[0-9]{2}$"#, options: .regularExpression) != nil
            #expect(formatted ? fast != nil && fast?.bitPattern == general?.bitPattern : fast == nil, "'\(text)'")
        }
    }

    @Test func altlocPolicies() throws {
        var lines = Self.chainLines("A", 5)
        // residue 3: CA in two altlocs, B has the higher occupancy
        let ca3 = lines.firstIndex { $0.contains(" CA ") && $0.dropFirst(22).prefix(4) == "   3" }!
        lines[ca3] = Self.atom(100, "CA", "ALA", "A", 3, 7.6, alt: "A", occ: 0.3)
        lines.insert(Self.atom(101, "CA", "ALA", "A", 3, 8.6, alt: "B", occ: 0.6), at: ca3 + 1)
        lines.insert(Self.atom(102, "CA", "ALA", "A", 3, 9.6, alt: "C", occ: 0.1), at: ca3 + 2)
        let model = try Self.parse(lines.joined(separator: "\n"))
        let x = { (policy: AltlocPolicy) in ChainExtractor.chains(model, policy: policy)[0].ca[6] }
        #expect(x(.first) == 7.6)
        #expect(x(.occupancy) == 8.6)
        #expect(x(.last) == 9.6)
        #expect(ChainExtractor.chains(model)[0].hadAltloc == [false, false, true, false, false])
    }

    @Test func legacyColumnsHybrid36BlankChainsAndMissingAtoms() throws {
        var lines = Self.chainLines(" ", 4).map { $0.padding(toLength: 66, withPad: " ", startingAt: 0) + "      1HPV 123" }
        // a residue numbered in hybrid-36 (A000 = 10000), without N
        lines.append("ATOM    200  CA  GLY  A000       3.000   1.000   1.000  1.00 10.00")
        let chains = ChainExtractor.chains(try Self.parse(lines.joined(separator: "\n")))
        #expect(chains.count == 1)
        #expect(chains[0].name == "")
        #expect(chains[0].residueNumbers == [1, 2, 3, 4, 10000])
        #expect(chains[0].n[12].isNaN && chains[0].cb[14].isNaN && !chains[0].ca[12].isNaN)
    }

    /// gemmi keys a PDB residue by its segment id too (columns 73–76): one residue number in two
    /// segments is two residues, and the first variant wins (biopython's a_structure.pdb starts with
    /// such a residue). Old files with an ID code and a line serial in columns 73–80 are read as
    /// the fixtures read them, with those columns blank: no segments.
    @Test func segmentIdsSplitResiduesExceptInLegacyColumns() throws {
        func line(_ serial: Int, _ name: String, _ seq: Int, _ x: Double, segment: String, tail: String = "    ") -> String {
            Self.atom(serial, name, "ALA", "A", seq, x, tail: "").padding(toLength: 72, withPad: " ", startingAt: 0) + segment + tail
        }
        var lines = [line(1, "N", 1, 0, segment: "A   "), line(2, "CA", 1, 1, segment: "A   ")]
        for (k, name) in ["CB", "C", "CA"].enumerated() { lines.append(line(3 + k, name, 1, 2 + Double(k), segment: "    ")) }
        for r in 2...4 { for (k, name) in ["N", "CA", "C"].enumerated() { lines.append(line(10 * r + k, name, r, 4 * Double(r) + Double(k), segment: "    ")) } }
        let model = try Self.parse(lines.joined(separator: "\n"))
        #expect(model.residueNumbers == [1, 1, 2, 3, 4])
        let chain = ChainExtractor.chains(model)[0]
        #expect(chain.residueNumbers == [1, 2, 3, 4])             // the first variant of residue 1
        #expect(chain.ca[0] == 1 && chain.c[0].isNaN && chain.cb[0].isNaN)
        // the same atoms with "1ABC" and a line serial in columns 73–80: one residue 1
        let legacy = lines.enumerated().map { k, l in String(l.prefix(72)) + "1ABC" + String(format: "%4d", k + 1) }
        let flat = try Self.parse(legacy.joined(separator: "\n"))
        #expect(flat.residueNumbers == [1, 2, 3, 4])
        #expect(ChainExtractor.chains(flat)[0].c[0] == 3)
    }

    @Test func waterAndLigandsAfterTerAreDroppedModifiedResiduesKept() throws {
        var lines = Self.chainLines("A", 4)
        lines.append(Self.atom(50, "N", "MSE", "A", 5, 20, record: "HETATM"))
        lines.append(Self.atom(51, "CA", "MSE", "A", 5, 21, record: "HETATM"))
        lines.append("TER")
        lines.append(Self.atom(60, "CA", "CA", "A", 101, 30, record: "HETATM"))
        lines.append(Self.atom(61, "O", "HOH", "A", 201, 40, record: "HETATM"))
        let chains = ChainExtractor.chains(try Self.parse(lines.joined(separator: "\n")))
        #expect(chains.map(\.sequenceString) == ["AAAAM"])
    }

    /// gemmi 0.7.5's entity rules where they differ from a residue-name table lookup (each case
    /// was checked against gemmi: scripts/protein/differential.sh and the MDAnalysis test files).
    @Test func polymerRulesFollowGemmi() throws {
        func sequence(_ lines: [String]) throws -> [String] { ChainExtractor.chains(try Self.parse(lines.joined(separator: "\n"))).map(\.sequenceString) }
        // a name gemmi does not tabulate (an MD cap) never ends the polymer: it stays in the chain
        var capped = Self.chainLines("A", 4)
        capped.append(Self.atom(20, "N", "NMA", "A", 4, 15.7, icode: "A"))
        capped.append(Self.atom(21, "CA", "NMA", "A", 4, 16.2, icode: "A"))
        #expect(try sequence(capped) == ["AAAAX"])
        // MD water names (SOL) are not water to gemmi: a TER after them keeps the whole part polymer
        var solvated = Self.chainLines("A", 4)
        solvated.append(Self.atom(30, "OW", "SOL", "A", 5, 40))
        solvated += Self.chainLines("A", 1, start: 6).map { String($0.prefix(30)) + String(format: "%8.3f", 16.0) + String($0.dropFirst(38)) }
        solvated.append("TER")
        #expect(try sequence(solvated) == ["AAAAA"])
        // an atom named CA that starts in column 13 without an element column is calcium to gemmi:
        // untabulated residues with only such atoms are no polymer; with element C they are
        let calcium = (1...3).map { "ATOM  \(String(format: "%5d", $0)) CA   XYZ A\(String(format: "%4d", $0))    \(String(format: "%8.3f", 3.8 * Double($0)))   0.000   0.000  1.00  0.00" }
        #expect(try sequence(calcium).isEmpty)
        #expect(try sequence(calcium.map { $0 + "           C" }) == ["XXX"])
        // mmCIF: a residue whose group_PDB is neither ATOM nor HETATM is skipped
        var cif = "data_x\nloop_\n" + ["group_PDB", "id", "label_atom_id", "label_comp_id", "auth_asym_id", "auth_seq_id", "Cartn_x", "Cartn_y", "Cartn_z"]
            .map { "_atom_site.\($0)" }.joined(separator: "\n") + "\n"
        for r in 1...4 { cif += "\(r == 3 ? "WRONG" : "ATOM") \(r) CA ALA A \(r) \(3.8 * Double(r)) 0 0\n" }
        let chains = ChainExtractor.chains(try Self.parse(cif))
        #expect(chains.map(\.residueNumbers) == [[1, 2, 4]])
    }

    @Test func firstModelByDefaultAllModelsOnRequest() throws {
        let one = Self.chainLines("A", 4)
        let text = (["MODEL        1"] + one + ["ENDMDL", "MODEL        2"] + one + ["ENDMDL"]).joined(separator: "\n")
        #expect(ChainExtractor.chains(try Self.parse(text)).count == 1)
        let all = try Self.parse(text, allModels: true)
        let chains = ChainExtractor.chains(all, allModels: true)
        #expect(chains.map(\.model) == [1, 2])
        // gemmi reads the serial from columns 7–14: a MODEL line without one is model 0; frames
        // after ENDMDL without MODEL are numbered by their count
        let bare = (["MODEL"] + one + ["ENDMDL"] + one).joined(separator: "\n")
        #expect(ChainExtractor.chains(try Self.parse(bare, allModels: true), allModels: true).map(\.model) == [0, 2])
    }

    @Test func formatDetectionFromContent() throws {
        let cif = "data_x\nloop_\n_atom_site.label_atom_id\n_atom_site.Cartn_x\n_atom_site.Cartn_y\n_atom_site.Cartn_z\nCA 1 2 3\n"
        #expect(try Self.parse(cif).atomCount == 1)
        #expect(try Self.parse(Self.chainLines("A", 2).joined(separator: "\n")).atomCount == 8)
    }

    @Test func unterminatedQuoteNamesTheLine() throws {
        let cif = "data_x\n_entry.id 'open\nloop_\n"
        #expect(throws: StructureError.malformedLine(file: "inline", line: 2, expected: "a closing ' quote on the same line", found: "end of line")) {
            _ = try Self.parse(cif)
        }
    }

    @Test func graphsMatchBruteForce() {
        var rng = TestSupport.SplitMix(seed: 11)
        let n = 300
        let positions = (0..<(3 * n)).map { _ in rng.nextDouble() * 25 }
        func d(_ i: Int, _ j: Int) -> Double {
            let dx = positions[3 * i] - positions[3 * j], dy = positions[3 * i + 1] - positions[3 * j + 1], dz = positions[3 * i + 2] - positions[3 * j + 2]
            return (dx * dx + dy * dy + dz * dz).squareRoot()
        }
        var expected: [Int32] = []
        for i in 0..<n { for j in (i + 1)..<n where d(i, j) <= 8 { expected += [Int32(i), Int32(j)] } }
        #expect(ResidueGraphs.radius(positions: positions, cutoff: 8).edges == expected)
        let k = 12
        let knn = ResidueGraphs.knn(positions: positions, k: k)
        for i in 0..<n {
            let order = (0..<n).filter { $0 != i }.sorted { (d(i, $0), $0) < (d(i, $1), $1) }.prefix(k).map(Int32.init)
            #expect(Array(knn.indices[(i * k)..<((i + 1) * k)]) == order)
        }
        for size in [1.5, 3.0, 8.0, 30.0] {
            #expect(ResidueGraphs.knn(positions: positions, k: k, cellSize: size).indices == knn.indices, "cell size \(size)")
        }
        // the one-pass variant the stage uses gives the same edges and table
        for (cutoff, kk) in [(8.0, k), (5.0, 3), (12.0, 20), (2.0, 4), (8.0, 0), (0.0, 5)] {
            let both = ResidueGraphs.graphs(positions: positions, cutoff: cutoff, k: kk)
            #expect(both.edges == ResidueGraphs.radius(positions: positions, cutoff: cutoff).edges, "cutoff \(cutoff)")
            #expect(both.neighbors == ResidueGraphs.knn(positions: positions, k: kk).indices, "k \(kk)")
        }
        // sparse and clustered points (isolated ones need shells beyond the 27 cells), some on a
        // 1 Å lattice (exact ties), against brute force for the one-pass search
        var sparse: [Double] = []
        for c in 0..<40 {
            let center = (0..<3).map { _ in rng.nextDouble() * 60 }
            let members = c % 4 == 0 ? 1 : 1 + Int(abs(rng.nextDouble()) * 12)
            for _ in 0..<members {
                for axis in 0..<3 {
                    let v = center[axis] + rng.nextDouble() * 4
                    sparse.append(c % 3 == 0 ? v.rounded() : v)
                }
            }
        }
        let m = sparse.count / 3
        func ds(_ i: Int, _ j: Int) -> Double {
            let dx = sparse[3 * i] - sparse[3 * j], dy = sparse[3 * i + 1] - sparse[3 * j + 1], dz = sparse[3 * i + 2] - sparse[3 * j + 2]
            return (dx * dx + dy * dy + dz * dz).squareRoot()
        }
        for (cutoff, kk) in [(8.0, 10), (6.0, 16), (10.0, 4)] {
            let both = ResidueGraphs.graphs(positions: sparse, cutoff: cutoff, k: kk)
            var edges: [Int32] = []
            for i in 0..<m { for j in (i + 1)..<m where ds(i, j) <= cutoff { edges += [Int32(i), Int32(j)] } }
            #expect(both.edges == edges, "sparse, cutoff \(cutoff)")
            for i in 0..<m {
                var row = (0..<m).filter { $0 != i }.sorted { (ds(i, $0), $0) < (ds(i, $1), $1) }.prefix(kk).map(Int32.init)
                row += [Int32](repeating: -1, count: kk - row.count)
                #expect(Array(both.neighbors[(i * kk)..<((i + 1) * kk)]) == row, "sparse, k \(kk), point \(i)")
            }
        }
        // exact ties go to the lower index: points on a cube around the origin
        let tie: [Double] = [0, 0, 0, 2, 0, 0, -2, 0, 0, 0, 2, 0, 0, -2, 0, 0, 0, 2, 0, 0, -2]
        #expect(Array(ResidueGraphs.knn(positions: tie, k: 3).indices.prefix(3)) == [1, 2, 3])
        let tiny = ResidueGraphs.knn(positions: [0, 0, 0, 1, 0, 0], k: 3)
        #expect(tiny.indices == [1, -1, -1, 0, -1, -1])
        // the one-neighbour search of the 3Di partners: brute force on the random, sparse (with
        // lattice ties) and tie points, any cell size, NaN points never chosen and without a partner
        var withGaps = sparse
        for i in stride(from: 2, to: m, by: 5) { withGaps[3 * i + 1] = .nan }
        for points in [positions, sparse, withGaps, tie] {
            let count = points.count / 3
            func dp(_ i: Int, _ j: Int) -> Double {
                let dx = points[3 * i] - points[3 * j], dy = points[3 * i + 1] - points[3 * j + 1], dz = points[3 * i + 2] - points[3 * j + 2]
                return (dx * dx + dy * dy + dz * dz).squareRoot()
            }
            let expected = (0..<count).map { i -> Int32 in
                guard !dp(i, i).isNaN else { return -1 }
                let others = (0..<count).filter { $0 != i && !dp(i, $0).isNaN }
                return others.min { (dp(i, $0), $0) < (dp(i, $1), $1) }.map(Int32.init) ?? -1
            }
            for size in [1.0, 6.0, 20.0] {
                #expect(ResidueGraphs.nearest(positions: points, cellSize: size) == expected, "\(count) points, cell \(size)")
            }
        }
        #expect(ResidueGraphs.nearest(positions: [0, 0, 0], cellSize: 6) == [-1])
    }
}
