import BioEmbedHDF5
import BioEmbedNN
import Testing
import _BioEmbedTestSupport

@Suite(.serialized)
struct BrainMAEParityTests {
    func load(_ variant: String) throws -> (BrainMAEModel, HDF5File) {
        let folder = TestSupport.fixture("encoders/brainmae/" + variant)
        let config = try BrainMAEConfig(try ModelConfigFile(path: folder + "/config.json"))
        let model = try BrainMAEModel(config: config, weights: try WeightStore(path: folder + "/model.safetensors"))
        return (model, try HDF5File.open(folder + "/fixtures.h5"))
    }

    @Test(arguments: ["sg", "ag"])
    func forwardMatchesReference(variant: String) throws {
        let (model, file) = try load(variant)
        let root = file.root
        let c = model.config
        let shape = try root.dataset("input").shape
        let (b, n, t) = (shape[0], shape[1], shape[2])
        #expect(n == c.rois)
        let input = try FixtureCheck.floats(root, "input")
        let k = t / c.segmentLength
        var segments: [Float] = []
        for i in 0..<b { segments += model.segment(Array(input[(i * n * t)..<((i + 1) * n * t)]), frames: t) }
        FixtureCheck.expectClose(segments, try FixtureCheck.floats(root, "segments"), atol: 0, "\(variant) segments")
        let raw = try FixtureCheck.floats(root, "bold_raw")
        var normalised: [Float] = []
        for i in 0..<b { normalised += BrainMAEModel.zscore(Array(raw[(i * n * t)..<((i + 1) * n * t)]), rois: n, frames: t) }
        FixtureCheck.expectClose(normalised, input, atol: 5e-5, "\(variant) z-score")
        FixtureCheck.expectClose(
            model.graphAttention(block: 0) ?? [], try FixtureCheck.floats(root, "tse_graph_attention_block0"), atol: 1e-5, "\(variant) graph attention")
        FixtureCheck.expectClose(
            model.encoderPositions, BrainMAEModel.sinCosTable(positions: c.maxSegments + 1, width: c.encDim), atol: 1e-6, "\(variant) pos_embed")

        let out = model.encode(segments: segments, batch: b, segmentCount: k)
        FixtureCheck.expectClose(out.states, try FixtureCheck.floats(root, "states"), atol: 1e-4, rtol: 1e-4, "\(variant) states")
        FixtureCheck.expectClose(out.tokens, try FixtureCheck.floats(root, "tokens"), atol: 1e-4, rtol: 1e-4, "\(variant) tokens")
        let dm = c.encDim, length = k + 1
        let cls = (0..<b).flatMap { i in out.tokens[(i * length * dm)..<(i * length * dm + dm)] }
        FixtureCheck.expectClose(cls, try FixtureCheck.floats(root, "embedding_cls"), atol: 1e-4, rtol: 1e-4, "\(variant) embedding_cls")
        let mean = (0..<b).flatMap { i in
            (0..<dm).map { j in (1..<length).reduce(Float(0)) { $0 + out.tokens[(i * length + $1) * dm + j] } / Float(k) }
        }
        FixtureCheck.expectClose(mean, try FixtureCheck.floats(root, "embedding_mean"), atol: 1e-4, rtol: 1e-4, "\(variant) embedding_mean")

        let mask = try FixtureCheck.floats(root, "roi_mask")
        let masked = model.encode(segments: segments, batch: b, segmentCount: k, mask: mask)
        let m = try root.group("masked")
        FixtureCheck.expectClose(masked.states, try FixtureCheck.floats(m, "states"), atol: 1e-4, rtol: 1e-4, "\(variant) masked states")
        FixtureCheck.expectClose(masked.tokens, try FixtureCheck.floats(m, "tokens"), atol: 1e-4, rtol: 1e-4, "\(variant) masked tokens")
        let reconstruction = model.reconstruct(tokens: masked.tokens, batch: b, segmentCount: k) ?? []
        FixtureCheck.expectClose(reconstruction, try FixtureCheck.floats(m, "reconstruction"), atol: 1e-4, rtol: 1e-4, "\(variant) reconstruction")
        let loss = model.loss(reconstruction: reconstruction, segments: segments, mask: mask)
        FixtureCheck.expectClose(loss, try FixtureCheck.floats(m, "loss"), atol: 0, rtol: 1e-5, "\(variant) loss")

        // Masked signal must not leak: change masked inputs, masked outputs stay the same.
        var perturbed = segments
        for i in 0..<mask.count where mask[i] != 0 { for j in 0..<c.segmentLength { perturbed[i * c.segmentLength + j] += 7 } }
        let again = model.encode(segments: perturbed, batch: b, segmentCount: k, mask: mask)
        #expect(again.tokens == masked.tokens)
    }
}
