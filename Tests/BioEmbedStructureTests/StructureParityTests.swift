import BioEmbedCore
import BioEmbedStructure
import Foundation
import Testing
import _BioEmbedTestSupport

/// Parity with the protein fixtures (README of fixtures/proteins): residue selection, names,
/// numbers, insertion codes and sequences exact; coordinates ≤ 1e-3 Å; 3Di identical to foldseek's
/// encoder (first and last altloc); radius and kNN graphs identical.
@Suite(.serialized)
struct StructureParityTests {
    static let coordinateTolerance = 1e-3

    static func references() throws -> [ProteinReference] {
        var all: [ProteinReference] = []
        for root in ProteinFixtures.roots { all += try ProteinFixtures.load(root: root) }
        return all
    }

    static func concatenated(_ chains: [ProteinChain], _ key: KeyPath<ProteinChain, [Double]>) -> [Double] {
        chains.flatMap { $0[keyPath: key] }
    }

    static func maxCoordinateError(_ a: [Double], _ b: [Double]) -> Double {
        guard a.count == b.count else { return .infinity }
        var worst = 0.0
        for (x, y) in zip(a, b) {
            if x.isNaN != y.isNaN { return .infinity }
            if !x.isNaN { worst = max(worst, abs(x - y)) }
        }
        return worst
    }

    @Test func fixturesArePresent() throws {
        let refs = try Self.references()
        #expect(refs.count >= 10, "expected the committed protein fixtures, found \(refs.count) files")
        let residues = refs.reduce(0) { $0 + $1.resSeq.count }
        let chains = refs.reduce(0) { $0 + $1.chainNames.count }
        #expect(residues > 1_000 && chains >= 10, "expected fixture residues and chains, found \(residues) and \(chains)")
        print("protein fixtures: \(refs.count) files, \(chains) chains, \(residues) residues from \(ProteinFixtures.roots)")
    }

    @Test func residuesSequencesAndCoordinates() throws {
        for ref in try Self.references() {
            let model = try StructureReader.read(ref.path)
            let chains = ChainExtractor.chains(model)
            #expect(chains.map(\.name) == ref.chainNames, "\(ref.group): chain names")
            var offsets = [0]
            for ch in chains { offsets.append(offsets.last! + ch.count) }
            #expect(offsets == ref.chainOffsets, "\(ref.group): chain offsets")
            guard offsets == ref.chainOffsets else { continue }
            #expect(chains.flatMap { $0.residueNames.map(\.description) } == ref.resName, "\(ref.group): residue names")
            #expect(chains.flatMap(\.residueNumbers) == ref.resSeq, "\(ref.group): residue numbers")
            #expect(chains.flatMap { $0.insertionCodes.map { String(UnicodeScalar($0)) } } == ref.resIcode, "\(ref.group): insertion codes")
            #expect(chains.map(\.sequenceString) == ref.seq, "\(ref.group): sequences")
            for (key, reference, label) in [(\ProteinChain.ca, ref.ca, "CA"), (\ProteinChain.n, ref.n, "N"), (\ProteinChain.c, ref.c, "C"), (\ProteinChain.cb, ref.cb, "CB")] {
                let error = Self.maxCoordinateError(Self.concatenated(chains, key), reference)
                #expect(error <= Self.coordinateTolerance, "\(ref.group): \(label) differs by \(error) Å")
            }
        }
    }

    @Test func foldseek3DiFirstAndLastAltloc() throws {
        let encoder = Foldseek3DiEncoder()
        for ref in try Self.references() {
            let model = try StructureReader.read(ref.path)
            for (policy, expected) in [(AltlocPolicy.first, ref.tdiFoldseek), (.last, ref.tdiLastAlt)] {
                let chains = ChainExtractor.chains(model, policy: policy)
                let tokens = chains.map { String(decoding: encoder.encode(n: $0.n, ca: $0.ca, c: $0.c, cb: $0.cb), as: UTF8.self) }
                #expect(tokens == expected, "\(ref.group) (\(policy)): 3Di differs")
            }
        }
    }

    @Test func wholeComplexGraphs() throws {
        for ref in try Self.references() {
            let chains = ChainExtractor.chains(try StructureReader.read(ref.path))
            let ca = chains.flatMap(\.ca)
            let radius = ResidueGraphs.radius(positions: ca, cutoff: 8)
            #expect(radius.edges == ref.radiusEdges, "\(ref.group): radius graph (\(radius.edges.count / 2) vs \(ref.radiusEdges.count / 2) edges)")
            let knn = ResidueGraphs.knn(positions: ca, k: ref.knnWidth)
            #expect(knn.indices == ref.knnIndex, "\(ref.group): kNN graph")
        }
    }

    /// The stage with `graph_scope: complex` (and every chain kept): each chain item's rows,
    /// concatenated in item order, are the fixture's whole-complex graphs.
    @Test func complexScopeItemsCarryTheFixtureWholeComplexGraphs() throws {
        for ref in try Self.references() {
            let stage = ProteinTokenizeStage(.init(radius: 8, knn: ref.knnWidth, minLength: 1, graphScope: .complex))
            let item = ManifestItem(id: ref.group, index: 0, line: 1, fields: ["path": ref.path], baseDirectory: "/")
            var edges: [Int32] = [], neighbors: [Int32] = [], offsets: [Int32] = []
            for output in try stage.outputs(item, context: StageContext()) {
                guard case let .record(record) = output else { Issue.record("\(ref.group): a chain failed"); continue }
                guard case let .int32(e)? = record.values["graph/radius/edges"], case let .int32(k)? = record.values["graph/knn/neighbors"],
                      case let .int32(o)? = record.values["complex_offset"] else { Issue.record("\(ref.group): graph fields missing"); continue }
                edges += e; neighbors += k; offsets += o
            }
            #expect(edges == ref.radiusEdges, "\(ref.group): complex radius graph (\(edges.count / 2) vs \(ref.radiusEdges.count / 2) edges)")
            #expect(neighbors == ref.knnIndex, "\(ref.group): complex kNN graph")
            #expect(offsets == ref.chainOffsets.dropLast().map(Int32.init), "\(ref.group): complex offsets")
        }
    }

    @Test func chainLocalRadiusGraphsAreTheFixtureEdgesWithinEachChain() throws {
        for ref in try Self.references() {
            let chains = ChainExtractor.chains(try StructureReader.read(ref.path))
            guard chains.count == ref.chainNames.count else { continue }
            for (k, chain) in chains.enumerated() {
                let lo = Int32(ref.chainOffsets[k]), hi = Int32(ref.chainOffsets[k + 1])
                var expected: [Int32] = []
                for e in stride(from: 0, to: ref.radiusEdges.count, by: 2) {
                    let i = ref.radiusEdges[e], j = ref.radiusEdges[e + 1]
                    if i >= lo && i < hi && j >= lo && j < hi { expected += [i - lo, j - lo] }
                }
                let local = ResidueGraphs.radius(positions: chain.ca, cutoff: 8)
                #expect(local.edges == expected, "\(ref.group) chain '\(chain.name)': chain-local radius graph")
            }
        }
    }
}
