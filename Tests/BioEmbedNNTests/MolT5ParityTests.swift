import BioEmbedHDF5
import BioEmbedNN
import Testing
import _BioEmbedTestSupport

@Suite(.serialized)
struct MolT5ParityTests {
    static let folder = TestSupport.fixture("encoders/molt5")

    func load() throws -> MolT5Encoder {
        let config = try MolT5Config(try ModelConfigFile(path: Self.folder + "/config.json"))
        return try MolT5Encoder(config: config, weights: try WeightStore(path: Self.folder + "/weights.safetensors"))
    }

    @Test func bucketTableIsExact() throws {
        let file = try HDF5File.open(Self.folder + "/encoder_io.h5")
        let group = try file.root.group("relative_position_bucket")
        let relative = try group.dataset("relative_position").read(as: Int64.self)
        let buckets = try group.dataset("bucket").read(as: Int64.self)
        let ours = relative.map { Int64(T5RelativePositionBias.bucket(Int($0), buckets: 32, maxDistance: 128)) }
        #expect(ours == buckets)
    }

    /// Every group of encoder_io.h5: single molecules, the padded batch, fine-tuning layout, no-3D.
    @Test func encoderOutputsMatchReference() throws {
        let model = try load()
        let d = model.config.dModel
        let file = try HDF5File.open(Self.folder + "/encoder_io.h5")
        var groups: [(String, HDF5Group)] = []
        for parent in ["single", "one_d_only"] where file.root.contains(parent) {
            let g = try file.root.group(parent)
            for child in try g.children() { groups.append(("\(parent)/\(child.name)", try g.group(child.name))) }
        }
        for name in ["batch_padded", "finetune128"] where file.root.contains(name) { groups.append((name, try file.root.group(name))) }
        #expect(groups.count >= 3, "encoder_io.h5 has \(groups.count) input groups")
        for (name, group) in groups {
            let shape = try group.dataset("input_ids").shape
            let (b, l) = (shape[0], shape[1])
            let ids = try FixtureCheck.ints(group, "input_ids")
            let fp = try FixtureCheck.ints(group, "molecule_fp_ids")
            let batch = (0..<b).map { i in
                MolT5Encoder.Sequence(ids: Array(ids[(i * l)..<((i + 1) * l)]), fp: Array(fp[(4 * i * l)..<(4 * (i + 1) * l)]))
            }
            let outputs = model.forward(batch, collectHiddenStates: true)
            FixtureCheck.expectClose(
                outputs.flatMap(\.lastHiddenState), try FixtureCheck.floats(group, "last_hidden_state_f32"), atol: 1e-4, rtol: 1e-4, "\(name) output")
            let states = try group.dataset("hidden_states_f64").read(as: Double.self).map(Float.init)
            let per = b * l * d
            FixtureCheck.expectClose(outputs.flatMap { $0.hiddenStates[0] }, Array(states[0..<per]), atol: 1e-6, "\(name) embedding")
            FixtureCheck.expectClose(outputs.flatMap { $0.hiddenStates[1] }, Array(states[per..<(2 * per)]), atol: 1e-4, rtol: 1e-4, "\(name) block 0")
            let refSelfies = try group.dataset("pooled_mean_selfies_f64").read(as: Double.self).map(Float.init)
            var pooledNonPad: [Float] = []
            var checkedSelfies = 0
            for (i, out) in outputs.enumerated() {
                let nonPad = batch[i].ids.indices.filter { batch[i].ids[$0] != 0 }
                for c in 0..<d { pooledNonPad.append(nonPad.reduce(Float(0)) { $0 + out.lastHiddenState[$1 * d + c] } / Float(nonPad.count)) }
                // A truncated fine-tuning row has no <eom>: the stage reports it, nothing to compare.
                guard let range = try? MolT5EncodeStage.validate(batch[i], id: name, config: model.config, pooling: "selfies") else { continue }
                let pooled = (0..<d).map { c in range.reduce(Float(0)) { $0 + out.lastHiddenState[$1 * d + c] } / Float(range.count) }
                FixtureCheck.expectClose(pooled, Array(refSelfies[(i * d)..<((i + 1) * d)]), atol: 1e-4, "\(name)[\(i)] pooled selfies")
                checkedSelfies += 1
            }
            #expect(checkedSelfies >= b - 1, "\(name): selfies pooling checked for \(checkedSelfies) of \(b) rows")
            let refNonPad = try group.dataset("pooled_mean_nonpad_f64").read(as: Double.self).map(Float.init)
            FixtureCheck.expectClose(pooledNonPad, refNonPad, atol: 1e-4, "\(name) pooled non-pad")
        }
    }
}
