import BioEmbedHDF5
import BioEmbedNN
import Testing
import _BioEmbedTestSupport

@Suite(.serialized)
struct PSTParityTests {
    static let folder = TestSupport.fixture("encoders/pst")

    func load() throws -> PSTModel {
        let config = try PSTConfig(try ModelConfigFile(path: Self.folder + "/config.json"))
        return try PSTModel(config: config, weights: try WeightStore(path: Self.folder + "/weights.safetensors"))
    }

    func proteins() throws -> [(name: String, group: HDF5Group, sequence: PSTModel.Sequence)] {
        let file = try HDF5File.open(Self.folder + "/pst_reference.h5")
        let root = try file.root.group("proteins")
        return try root.children().map { child in
            let group = try root.group(child.name)
            let edges = try FixtureCheck.ints(group, "edge_index")
            let e = edges.count / 2
            return (child.name, group, PSTModel.Sequence(
                tokens: try FixtureCheck.ints(group, "tokens"), edgeSources: Array(edges[0..<e]), edgeTargets: Array(edges[e...])))
        }
    }

    @Test func structureForwardMatchesReference() throws {
        let model = try load()
        let d = model.config.embedDim
        for protein in try proteins() {
            let out = model.forward([protein.sequence], collectHiddenStates: true)[0]
            let tokens = out.tokenEmbeddings
            FixtureCheck.expectClose(tokens, try FixtureCheck.floats(protein.group, "token_embeddings"), atol: 2e-4, "\(protein.name) token_embeddings")
            let residues = Array(tokens[d..<(tokens.count - d)])
            FixtureCheck.expectClose(residues, try FixtureCheck.floats(protein.group, "residue_embeddings"), atol: 2e-4, "\(protein.name) residues")
            let n = residues.count / d
            let pooled = (0..<d).map { c in (0..<n).reduce(Float(0)) { $0 + residues[$1 * d + c] } / Float(n) }
            FixtureCheck.expectClose(pooled, try FixtureCheck.floats(protein.group, "protein_embedding"), atol: 5e-5, "\(protein.name) pooled")
            FixtureCheck.expectClose(
                out.structureLayer0 ?? [], try FixtureCheck.floats(protein.group, "struct_extractor_out_layer0"), atol: 2e-4, "\(protein.name) extractor 0")
            FixtureCheck.expectClose(
                out.hiddenStates.flatMap { $0 }, try FixtureCheck.floats(protein.group, "hidden_states"), atol: 1e-3, "\(protein.name) hidden_states")
            FixtureCheck.expectClose(model.logits(tokens) ?? [], try FixtureCheck.floats(protein.group, "logits"), atol: 1e-3, "\(protein.name) logits")
        }
    }

    @Test func sequenceOnlyAndIncludeSeqMatchReference() throws {
        let model = try load()
        let d = model.config.embedDim
        for protein in try proteins() {
            let seq = model.forward([protein.sequence], useStructure: false)[0].tokenEmbeddings
            let structure = model.forward([protein.sequence])[0].tokenEmbeddings
            let residues = Array(seq[d..<(seq.count - d)])
            FixtureCheck.expectClose(residues, try FixtureCheck.floats(protein.group, "seq_only_residue_embeddings"), atol: 2e-4, "\(protein.name) seq-only")
            let n = residues.count / d
            let pooled = (0..<d).map { c in (1...n).reduce(Float(0)) { $0 + seq[$1 * d + c] } / Float(n) }
            FixtureCheck.expectClose(pooled, try FixtureCheck.floats(protein.group, "seq_only_protein_embedding"), atol: 5e-5, "\(protein.name) seq-only pooled")
            let mixed = (0..<d).map { c in (1...n).reduce(Float(0)) { $0 + 0.5 * (seq[$1 * d + c] + structure[$1 * d + c]) } / Float(n) }
            FixtureCheck.expectClose(
                mixed, try FixtureCheck.floats(protein.group, "include_seq_protein_embedding"), atol: 5e-5, "\(protein.name) include-seq")
        }
    }

    @Test func packedBatchEqualsSingles() throws {
        let model = try load()
        let list = try proteins()
        let batch = model.forward(list.map(\.sequence))
        for (i, protein) in list.enumerated() {
            FixtureCheck.expectClose(
                batch[i].tokenEmbeddings, try FixtureCheck.floats(protein.group, "token_embeddings"), atol: 2e-4, "\(protein.name) in batch")
        }
    }

    @Test func radiusGraphMatchesReference() throws {
        let config = try PSTConfig(try ModelConfigFile(path: Self.folder + "/config.json"))
        for protein in try proteins() {
            let sequence = try protein.group.stringAttribute("sequence")
            let ca = try FixtureCheck.floats(protein.group, "ca_coords")
            let built = PSTEncodeStage.sequence(letters: Array(sequence), ca: ca, config: config, table: config.tokenTable())
            #expect(built.tokens == protein.sequence.tokens, "\(protein.name) tokens")
            let ours = Set(zip(built.edgeSources, built.edgeTargets).map { "\($0)-\($1)" })
            let reference = Set(zip(protein.sequence.edgeSources, protein.sequence.edgeTargets).map { "\($0)-\($1)" })
            #expect(ours == reference, "\(protein.name) edges: \(ours.count) vs \(reference.count)")
        }
    }
}
