import BioEmbedNN
import Testing
import _BioEmbedTestSupport

/// Float64 central finite differences of the BrainMAE loss against the hand-written backward pass
/// (linear, LayerNorm, GELU, masked softmax attention, graph attention over the ROI embeddings,
/// masked mean pooling, weighted MSE), on tiny random SG and AG models with a random mask that
/// includes a fully visible segment.
struct BrainMAEGradientCheckTests {
    func config(_ type: String) throws -> BrainMAEConfig {
        try BrainMAEConfig(ModelConfigFile(path: "gradcheck.json", values: [
            "n_rois": 7, "seg_len": 3, "max_segments": 4, "tse_type": type, "tse_dim": 8, "tse_depth": 2, "tse_heads": 2,
            "enc_dim": 8, "enc_depth": 1, "enc_heads": 2, "dec_dim": 6, "dec_depth": 1, "dec_heads": 2, "mlp_ratio": 2.0,
            "ln_eps": 1e-6, "mask_loss_weight": 0.75,
        ]))
    }

    @Test(arguments: ["SG", "AG"])
    func finiteDifferences(type: String) throws {
        let c = try config(type)
        let parameters: ParameterSet<Double> = TrainingCheckpoint.initialParameters(config: c, seed: 11)
        // Make LayerNorms and biases non-trivial so every path carries gradient.
        var rng = TestSupport.SplitMix(seed: 3)
        for i in 0..<parameters.total { parameters.values[i] += 0.3 * rng.nextDouble() }
        let model = BrainMAETrainingModel(config: c, parameters: parameters)
        let batch = 2, k = 3, n = c.rois, tau = c.segmentLength
        let segments = rng.doubles(batch * k * n * tau)
        var mask = [Double](repeating: 0, count: batch * k * n)
        for s in 1..<(batch * k) { for r in 0..<n where (r * 3 + s) % 4 == 0 { mask[s * n + r] = 1 } }
        _ = model.step(segments: segments, mask: mask, batch: batch, segmentCount: k)
        let analytic = Array(UnsafeBufferPointer(start: parameters.gradients, count: parameters.total))
        let h = 1e-6
        var worst = 0.0, largest = 0.0
        for g in analytic { largest = max(largest, abs(g)) }
        for i in 0..<parameters.names.count {
            // Two elements per tensor plus one random direction.
            let start = parameters.offsets[i], count = parameters.count(i)
            for j in [start, start + count / 2] {
                let saved = parameters.values[j]
                parameters.values[j] = saved + h
                let plus = model.loss(segments: segments, mask: mask, batch: batch, segmentCount: k)[0]
                parameters.values[j] = saved - h
                let minus = model.loss(segments: segments, mask: mask, batch: batch, segmentCount: k)[0]
                parameters.values[j] = saved
                let numeric = (plus - minus) / (2 * h)
                worst = max(worst, abs(numeric - analytic[j]))
                #expect(abs(numeric - analytic[j]) <= 1e-7 * largest + 1e-6 * abs(numeric), "\(type) \(parameters.names[i])[\(j - start)]: \(analytic[j]) vs \(numeric)")
            }
            let direction = rng.doubles(count)
            var dot = 0.0
            for j in 0..<count { dot += direction[j] * analytic[start + j] }
            let saved = Array(UnsafeBufferPointer(start: parameters.values + start, count: count))
            for j in 0..<count { parameters.values[start + j] = saved[j] + h * direction[j] }
            let plus = model.loss(segments: segments, mask: mask, batch: batch, segmentCount: k)[0]
            for j in 0..<count { parameters.values[start + j] = saved[j] - h * direction[j] }
            let minus = model.loss(segments: segments, mask: mask, batch: batch, segmentCount: k)[0]
            for j in 0..<count { parameters.values[start + j] = saved[j] }
            let numeric = (plus - minus) / (2 * h)
            #expect(abs(numeric - dot) <= 1e-7 * largest + 1e-6 * abs(numeric), "\(type) \(parameters.names[i]) direction: \(dot) vs \(numeric)")
        }
        #expect(largest > 0)
    }
}
