import BioEmbedNN
import Foundation
import Testing
import _BioEmbedTestSupport

/// Evidence that pre-training works (issue 7): on synthetic fMRI with known network structure
/// (`SyntheticFMRI`, two network configurations = a hidden subject label), a short run lowers the
/// held-out masked-reconstruction loss well below the untrained model's, and a linear probe
/// (ridge regression, 5-fold cross-validation) on the [CLS] embeddings recovers the label better
/// than on untrained embeddings. The numbers are printed (README "BrainMAE pre-training").
@Suite(.serialized)
struct BrainMAETrainingEvidenceTests {
    static let subjects = 60

    /// Cross-validated accuracy of ridge regression (λ = 1, standardised features) onto ±1 labels.
    static func probeAccuracy(_ features: [[Double]], labels: [Int], folds: Int = 5) -> Double {
        let n = features.count, d = features[0].count
        var correct = 0
        for fold in 0..<folds {
            let train = (0..<n).filter { $0 % folds != fold }, test = (0..<n).filter { $0 % folds == fold }
            var mean = [Double](repeating: 0, count: d), sd = [Double](repeating: 0, count: d)
            for i in train { for j in 0..<d { mean[j] += features[i][j] / Double(train.count) } }
            for i in train { for j in 0..<d { sd[j] += pow(features[i][j] - mean[j], 2) / Double(train.count) } }
            func row(_ i: Int) -> [Double] { (0..<d).map { (features[i][$0] - mean[$0]) / (sd[$0].squareRoot() + 1e-9) } + [1] }
            let m = d + 1
            var a = [Double](repeating: 0, count: m * m), b = [Double](repeating: 0, count: m)
            for i in train {
                let x = row(i), y = labels[i] == 1 ? 1.0 : -1.0
                for p in 0..<m { b[p] += x[p] * y; for q in 0..<m { a[p * m + q] += x[p] * x[q] } }
            }
            for p in 0..<d { a[p * m + p] += 1 }
            a[m * m - 1] += 1e-9
            // Gaussian elimination with partial pivoting.
            for col in 0..<m {
                let pivot = (col..<m).max { abs(a[$0 * m + col]) < abs(a[$1 * m + col]) }!
                if pivot != col { for q in 0..<m { a.swapAt(col * m + q, pivot * m + q) }; b.swapAt(col, pivot) }
                for r in (col + 1)..<m {
                    let f = a[r * m + col] / a[col * m + col]
                    for q in col..<m { a[r * m + q] -= f * a[col * m + q] }
                    b[r] -= f * b[col]
                }
            }
            var w = [Double](repeating: 0, count: m)
            for r in stride(from: m - 1, through: 0, by: -1) {
                var s = b[r]
                for q in (r + 1)..<m { s -= a[r * m + q] * w[q] }
                w[r] = s / a[r * m + r]
            }
            for i in test {
                let x = row(i)
                let score = zip(x, w).reduce(0) { $0 + $1.0 * $1.1 }
                if (score > 0 ? 1 : 0) == labels[i] { correct += 1 }
            }
        }
        return Double(correct) / Double(n)
    }

    /// Mean [CLS] embedding over each subject's windows.
    static func embeddings(_ model: BrainMAETrainingModel<Float>, data: TrainingData) -> [[Double]] {
        let dm = model.config.encDim
        var sums = [[Double]](repeating: [Double](repeating: 0, count: dm), count: data.subjects.count)
        var counts = [Int](repeating: 0, count: data.subjects.count)
        for (w, window) in data.windows.enumerated() {
            let tokens = model.tokens(segments: window, batch: 1, segmentCount: data.windowSegments)
            let s = data.subjectOfWindow[w]
            for j in 0..<dm { sums[s][j] += Double(tokens[j]) }
            counts[s] += 1
        }
        return zip(sums, counts).map { sum, count in sum.map { $0 / Double(max(count, 1)) } }
    }

    @Test func pretrainingLowersHeldOutLossAndHelpsALinearProbe() throws {
        let dir = TestSupport.temporaryDirectory("brainmae-evidence")
        let input = dir + "/synthetic.h5", configPath = dir + "/bm.json", weights = dir + "/bm.safetensors"
        let generator = SyntheticFMRI(subjects: Self.subjects, rois: 16, frames: 150, networks: 4, noise: 0.7, seed: 3)
        try generator.write(to: input)
        let values: [String: Any] = [
            "n_rois": 16, "seg_len": 5, "max_segments": 8, "tse_type": "SG", "tse_dim": 32, "tse_depth": 2, "tse_heads": 4,
            "enc_dim": 32, "enc_depth": 2, "enc_heads": 4, "dec_dim": 32, "dec_depth": 1, "dec_heads": 4, "mlp_ratio": 2.0,
            "ln_eps": 1e-6, "mask_loss_weight": 0.75, "batch_size": 16, "window_segments": 6, "lr": 2e-3, "epochs": 20,
            "holdout_fraction": 0.2,
        ]
        try JSONSerialization.data(withJSONObject: values).write(to: URL(fileURLWithPath: configPath))
        let report = try BrainMAETrainer(.init(input: input, config: configPath, output: weights, seed: 4)).run()
        let before = report.heldOutLoss.first ?? .nan, after = report.heldOutLoss.last ?? .nan

        let file = try ModelConfigFile(path: configPath)
        let config = try BrainMAEConfig(file)
        let data = try TrainingData(path: input, config: config, windowSegments: 6, holdoutFraction: 0.2, seed: 4)
        let untrained = BrainMAETrainingModel<Float>(config: config, parameters: TrainingCheckpoint.initialParameters(config: config, seed: 4))
        let loaded: (parameters: ParameterSet<Float>, encoderPositions: [Float]?, decoderPositions: [Float]?) =
            try TrainingCheckpoint.loadParameters(config: config, path: weights)
        let trained = BrainMAETrainingModel<Float>(config: config, parameters: loaded.parameters)
        let labels = (0..<Self.subjects).map(generator.label)
        let probeBefore = Self.probeAccuracy(Self.embeddings(untrained, data: data), labels: labels)
        let probeAfter = Self.probeAccuracy(Self.embeddings(trained, data: data), labels: labels)
        print("BrainMAE evidence: \(report.steps) steps, held-out loss untrained \(before) → trained \(after); "
            + "linear-probe accuracy untrained \(probeBefore) → trained \(probeAfter); \(String(format: "%.0f", report.segmentsPerSecond)) segments/s")
        #expect(after < 0.8 * before, "held-out loss \(before) → \(after)")
        #expect(probeAfter >= probeBefore + 0.05, "probe \(probeBefore) → \(probeAfter)")
    }
}
