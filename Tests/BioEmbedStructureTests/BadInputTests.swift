import BioEmbedCore
import BioEmbedHDF5
import BioEmbedPipeline
@testable import BioEmbedStructure
import Foundation
import Testing
import _BioEmbedTestSupport

/// The bad inputs of the protein issue: each gives a clear message naming the file (and line),
/// the other files are still written, and the run reports failures (exit code 2 on the CLI).
@Suite(.serialized)
struct BadInputTests {
    static let good = TestSupport.fixture("proteins/structures/1A8O.pdb.gz")

    /// Writes the bad files into a fresh folder and returns it.
    static func makeBadFolder() throws -> String {
        let dir = TestSupport.temporaryDirectory("protein-bad")
        let fm = FileManager.default
        let gz = try Data(contentsOf: URL(fileURLWithPath: good))
        try gz.prefix(gz.count / 2).write(to: URL(fileURLWithPath: dir + "/truncated.pdb.gz"))
        _ = fm.createFile(atPath: dir + "/empty.pdb", contents: Data())
        var garbage = Data()
        var rng = TestSupport.SplitMix(seed: 7)
        for _ in 0..<4096 { garbage.append(UInt8(truncatingIfNeeded: rng.next())) }
        try garbage.write(to: URL(fileURLWithPath: dir + "/garbage.cif"))
        let brokenLoop = """
            data_test
            loop_
            _atom_site.group_PDB
            _atom_site.label_atom_id
            _atom_site.label_comp_id
            _atom_site.auth_asym_id
            _atom_site.auth_seq_id
            _atom_site.Cartn_x
            _atom_site.Cartn_y
            _atom_site.Cartn_z
            ATOM CA ALA A 1 0.0 0.0 0.0
            ATOM CA ALA A 2 3.8 0.0
            #

            """
        try brokenLoop.write(toFile: dir + "/broken_loop.cif", atomically: true, encoding: .utf8)
        let text = String(decoding: try CompressedFileReader.readAll(good), as: UTF8.self)
        let atoms = text.split(separator: "\n").filter { $0.hasPrefix("ATOM") || $0.hasPrefix("HETATM") }
        let noCA = atoms.filter { !$0.dropFirst(12).prefix(4).contains("CA") || $0.dropFirst(12).prefix(4) != " CA " }
        try (noCA.joined(separator: "\n") + "\n").write(toFile: dir + "/no_ca.pdb", atomically: true, encoding: .utf8)
        // chain A complete, chain B with only its first two residues
        var firstResidues: [Substring] = []
        for line in atoms {
            let key = line.dropFirst(22).prefix(5)
            if !firstResidues.contains(key) { firstResidues.append(key) }
        }
        let short = atoms.filter { firstResidues.prefix(2).contains($0.dropFirst(22).prefix(5)) }
            .map { String($0.prefix(21)) + "B" + String($0.dropFirst(22)) }
        try (atoms.joined(separator: "\n") + "\nTER\n" + short.joined(separator: "\n") + "\nEND\n")
            .write(toFile: dir + "/short_chain.pdb", atomically: true, encoding: .utf8)
        var badLine = atoms.prefix(40).map(String.init)
        badLine[20] = String(badLine[20].prefix(30)) + "  12.x45  1.000  2.000"
        try (badLine.joined(separator: "\n") + "\n").write(toFile: dir + "/bad_number.pdb", atomically: true, encoding: .utf8)
        try fm.copyItem(atPath: good, toPath: dir + "/good.pdb.gz")
        return dir
    }

    @Test func everyBadFileFailsAloneWithAMessageAndTheRestIsWritten() throws {
        let dir = try Self.makeBadFolder()
        let items = try InputDiscovery.items([dir], extensions: ProteinTokenizeStage.extensions)
        let output = dir + "/out.h5"
        let summary = try StageExecutor.execute(AnyStage(ProteinTokenizeStage(.init())), items: items, output: output,
                                                options: RunOptions(progress: .off, command: "test"))
        #expect(summary.done == 2, "good.pdb.gz:A and short_chain.pdb:A are written")
        #expect(summary.failed == 7)
        #expect(RunSummary(stages: [summary]).exitCode == 2)
        let file = try HDF5File.open(output)
        defer { file.close() }
        let ids = try file.root.group("proteins").dataset("ids").readStrings()
        #expect(ids == ["good.pdb.gz:A", "short_chain.pdb:A"])
        let errorIds = try file.root.group("errors").dataset("ids").readStrings()
        let messages = try file.root.group("errors").dataset("message").readStrings()
        let byId = Dictionary(uniqueKeysWithValues: zip(errorIds, messages))
        func check(_ id: String, _ parts: [String]) {
            guard let message = byId[id] else {
                Issue.record("no /errors row for \(id); rows: \(errorIds)")
                return
            }
            for part in parts { #expect(message.contains(part), "\(id): '\(message)' lacks '\(part)'") }
        }
        check("truncated.pdb.gz", ["truncated.pdb.gz", "gzip"])
        check("empty.pdb", ["empty.pdb", "empty file"])
        check("garbage.cif", ["garbage.cif", "binary"])
        check("broken_loop.cif", ["broken_loop.cif:2:", "loop_", "8 columns"])
        check("no_ca.pdb", ["no_ca.pdb", "CA"])
        check("short_chain.pdb:B", ["short_chain.pdb", "chain 'B'", "found 2"])
        check("bad_number.pdb", ["bad_number.pdb:21:", "x, y, z"])
    }

    @Test func shortChainsAreAllDFromTheEncoder() {
        let encoder = Foldseek3DiEncoder()
        for length in 1...3 {
            var rng = TestSupport.SplitMix(seed: UInt64(length))
            let coords = { (0..<(3 * length)).map { _ in rng.nextDouble() * 10 } }
            let tokens = encoder.encode(n: coords(), ca: coords(), c: coords(), cb: coords())
            #expect(tokens == [UInt8](repeating: UInt8(ascii: "D"), count: length))
        }
        #expect(encoder.encode(n: [], ca: [], c: [], cb: []).isEmpty)
    }

    /// The grid partner search equals foldseek's all-pairs loop (ascending j, strict `<` on the
    /// square root, mask updated in place), including exact ties (coordinates on a 0.5 Å lattice),
    /// masked residues and chains with a single valid residue.
    @Test func partnerSearchEqualsFoldseeksAllPairsLoop() {
        var rng = TestSupport.SplitMix(seed: 3)
        for trial in 0..<300 {
            let len = 3 + Int(abs(rng.nextDouble()) * 400)
            let span = trial % 3 == 0 ? 6.0 : 60.0
            var v = (0..<(3 * len)).map { _ in (rng.nextDouble() * span * 2).rounded() / 2 }
            let invalidRate = trial % 5 == 0 ? 0.97 : 0.1
            var valid = (0..<len).map { _ in abs(rng.nextDouble()) >= invalidRate }
            // foldseek: for i in 1..<L-1, for j in 1..<L-1, j != i, mask[j], d < best; no partner → mask[i] = 0
            var expectedValid = valid
            var expected = [Int](repeating: -1, count: len)
            for i in 1..<(len - 1) {
                var best = Double.infinity
                for j in 1..<(len - 1) where j != i && expectedValid[j] {
                    let dx = v[3 * i] - v[3 * j], dy = v[3 * i + 1] - v[3 * j + 1], dz = v[3 * i + 2] - v[3 * j + 2]
                    let d = (dx * dx + dy * dy + dz * dz).squareRoot()
                    if d < best { best = d; expected[i] = j }
                }
                if expected[i] == -1 { expectedValid[i] = false }
            }
            let found = v.withUnsafeMutableBufferPointer { Foldseek3DiEncoder.partners(virtualCenters: $0, valid: &valid) }
            for i in 1..<(len - 1) where expectedValid[i] {
                #expect(found[i] == expected[i], "trial \(trial), residue \(i) of \(len)")
            }
            #expect(valid == expectedValid, "trial \(trial): mask")
        }
    }

    /// A run that fits one part has that part copied whole into the output; a fresh run of a part
    /// per input writes the output as it goes; a resumed run (half the inputs done by an earlier
    /// run) merges the earlier output and the new parts record by record. All give the same
    /// collection, compressed alike, and the same errors, with one or two workers.
    @Test func onePartCopiedWholeEqualsManyPartsWrittenOrMerged() throws {
        let dir = try Self.makeBadFolder()
        for name in ["1A8O.pdb.gz", "5PTI.cif.gz", "1YJP.cif"] {
            let source = TestSupport.fixture("proteins/structures/" + name)
            if FileManager.default.fileExists(atPath: source) { try FileManager.default.copyItem(atPath: source, toPath: dir + "/" + name) }
        }
        let items = try InputDiscovery.items([dir])
        var outputs: [String] = []
        for (checkpoint, jobs) in [(256, 1), (1, 1), (256, 2), (1, 2)] {
            let output = dir + "/out-\(checkpoint)-\(jobs).h5"
            _ = try StageExecutor.execute(AnyStage(ProteinTokenizeStage(.init())), items: items, output: output,
                                          options: RunOptions(jobs: jobs, progress: .off, command: "test", checkpointItems: checkpoint))
            outputs.append(output)
        }
        for jobs in [1, 2] {
            let output = dir + "/resumed-\(jobs).h5"
            _ = try StageExecutor.execute(AnyStage(ProteinTokenizeStage(.init())), items: Array(items.prefix(items.count / 2)), output: output,
                                          options: RunOptions(jobs: jobs, progress: .off, command: "test", checkpointItems: 1))
            let summary = try StageExecutor.execute(AnyStage(ProteinTokenizeStage(.init())), items: items, output: output,
                                                    options: RunOptions(jobs: jobs, progress: .off, command: "test", resume: true, checkpointItems: 1))
            #expect(summary.cached > 0 && summary.cached <= items.count / 2)   // failed inputs are redone
            outputs.append(output)
        }
        func contents(_ path: String) throws -> [String: String] {
            let file = try HDF5File.open(path)
            defer { file.close() }
            var table: [String: String] = [:]
            func datasets(_ g: HDF5Group, _ prefix: String) throws -> [String] {
                var found: [String] = []
                for child in try g.children() {
                    if child.kind == .dataset { found.append(prefix + child.name) }
                    if child.kind == .group { found += try datasets(try g.group(child.name), prefix + child.name + "/") }
                }
                return found
            }
            for group in ["proteins", "errors"] {
                let g = try file.root.group(group)
                for name in try datasets(g, "") {
                    let d = try g.dataset(name)
                    let values = d.elementType == .string ? "\(try d.readStrings())" : "\(try d.read(as: Double.self).map { $0.isNaN ? -999 : $0 })"
                    table[group + "/" + name] = "\(d.shape) \(d.filters) \(values)"
                }
            }
            return table
        }
        let first = try contents(outputs[0])
        #expect(first["proteins/ids"] != nil && first["errors/ids"] != nil)
        #expect(first["proteins/residue_number"]?.contains("gzip") == true)
        for other in outputs.dropFirst() { #expect(try contents(other) == first, "\(other)") }
    }

    @Test func shortChainsAreWrittenWhenMinLengthAllows() throws {
        let dir = try Self.makeBadFolder()
        let items = try InputDiscovery.items([dir + "/short_chain.pdb"])
        let output = dir + "/short.h5"
        let summary = try StageExecutor.execute(AnyStage(ProteinTokenizeStage(.init(minLength: 1))), items: items, output: output,
                                                options: RunOptions(progress: .off, command: "test"))
        #expect(summary.done == 2 && summary.failed == 0)
        let file = try HDF5File.open(output)
        defer { file.close() }
        #expect(try file.root.group("proteins").dataset("tokens_3di").readStrings().last == "DD")
    }
}
