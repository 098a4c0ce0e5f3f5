import BioEmbedHDF5
import BioEmbedNN
import Foundation
import Testing
import _BioEmbedTestSupport

/// The `bioembed train brainmae` loop: bit-for-bit resume, checkpoints loadable by the inference
/// model, bad input rejected before any step (no checkpoint overwritten), and evidence that
/// training works on synthetic data with known network structure.
@Suite(.serialized)
struct BrainMAETrainerTests {
    static var tinyConfig: [String: Any] { [
        "n_rois": 8, "seg_len": 4, "max_segments": 6, "tse_type": "SG", "tse_dim": 16, "tse_depth": 1, "tse_heads": 2,
        "enc_dim": 16, "enc_depth": 1, "enc_heads": 2, "dec_dim": 16, "dec_depth": 1, "dec_heads": 2, "mlp_ratio": 2.0,
        "ln_eps": 1e-6, "mask_loss_weight": 0.75, "batch_size": 3, "window_segments": 3, "lr": 2e-3, "checkpoint_every": 2,
        "clip_norm": 1.0,
    ] }

    func writeConfig(_ values: [String: Any], to path: String) throws {
        try JSONSerialization.data(withJSONObject: values, options: [.sortedKeys]).write(to: URL(fileURLWithPath: path))
    }

    /// Expects `body` to throw a BioEmbed error whose message satisfies `check`.
    func expectFailure(_ body: () throws -> Any, _ check: (String) -> Bool, sourceLocation: SourceLocation = #_sourceLocation) {
        do {
            _ = try body()
            Issue.record("expected an error", sourceLocation: sourceLocation)
        } catch {
            let message = (error as? NNError)?.description ?? "\(error)"
            #expect(check(message), "unexpected message: \(message)", sourceLocation: sourceLocation)
        }
    }

    func bytes(_ path: String) -> Data? { FileManager.default.contents(atPath: path) }

    @Test func resumedRunEndsWithTheSameWeights() throws {
        let dir = TestSupport.temporaryDirectory("brainmae-train")
        let input = dir + "/fmri.h5", config = dir + "/bm.json"
        try SyntheticFMRI(subjects: 6, rois: 8, frames: 40, seed: 5).write(to: input)
        try writeConfig(Self.tinyConfig, to: config)
        let full = try BrainMAETrainer(.init(input: input, config: config, output: dir + "/full.safetensors", epochs: 3, seed: 9)).run()
        #expect(full.steps > 3)
        #expect(!full.trainingLoss.contains { !$0.isFinite })
        #expect(full.trainingLoss.count == full.steps)
        let partial = try BrainMAETrainer(.init(input: input, config: config, output: dir + "/part.safetensors", epochs: 3, seed: 9, stopAfterSteps: 3)).run()
        #expect(partial.steps == 3)
        #expect(bytes(dir + "/part.safetensors") != bytes(dir + "/full.safetensors"))
        let rest = try BrainMAETrainer(.init(input: input, config: config, output: dir + "/part.safetensors", epochs: 3, seed: 9, resume: true)).run()
        #expect(rest.steps == full.steps - 3)
        #expect(Array(rest.trainingLoss) == Array(full.trainingLoss[3...]))
        let a = try SafeTensors(path: dir + "/full.safetensors"), b = try SafeTensors(path: dir + "/part.safetensors")
        for name in a.names { let x = try a.tensor(name).data, y = try b.tensor(name).data; #expect(x == y, "\(name) differs after resume") }
        for name in a.names { #expect(try a.tensor(name).data == (try b.tensor(name).data), "\(name) differs after resume") }

        // The checkpoint is what `encode brainmae` loads, and gives the training model's tokens.
        let c = try BrainMAEConfig(try ModelConfigFile(path: BrainMAETrainer.configPath(forWeights: dir + "/full.safetensors")))
        let inference = try BrainMAEModel(config: c, weights: try WeightStore(path: dir + "/full.safetensors"))
        let loaded: (parameters: ParameterSet<Float>, encoderPositions: [Float]?, decoderPositions: [Float]?) =
            try TrainingCheckpoint.loadParameters(config: c, path: dir + "/full.safetensors")
        let training = BrainMAETrainingModel(config: c, parameters: loaded.parameters, encoderPositions: loaded.encoderPositions, decoderPositions: loaded.decoderPositions)
        var rng = TestSupport.SplitMix(seed: 1)
        let segments = rng.doubles(2 * 3 * c.rois * c.segmentLength).map { Float($0) }
        let expected = training.tokens(segments: segments, batch: 2, segmentCount: 3)
        FixtureCheck.expectClose(inference.encode(segments: segments, batch: 2, segmentCount: 3).tokens, expected, atol: 1e-4, rtol: 1e-4, "checkpoint tokens")
    }

    @Test func warmupCosineSchedule() throws {
        let c = try BrainMAEConfig(ModelConfigFile(path: "c.json", values: Self.tinyConfig))
        let s = try TrainingSettings(ModelConfigFile(path: "c.json", values: Self.tinyConfig.merging(["warmup_fraction": 0.1]) { $1 }), model: c)
        let peak = s.learningRate
        #expect(abs(s.learningRate(step: 1, of: 100) - peak / 10) < 1e-15)
        #expect(abs(s.learningRate(step: 10, of: 100) - peak) < 1e-15)
        #expect(abs(s.learningRate(step: 55, of: 100) - peak / 2) < 1e-12)
        #expect(abs(s.learningRate(step: 100, of: 100)) < 1e-15)
        let constant = try TrainingSettings(ModelConfigFile(path: "c.json", values: Self.tinyConfig.merging(["schedule": "constant"]) { $1 }), model: c)
        #expect(constant.learningRate(step: 77, of: 100) == peak)
        #expect(throws: NNError.self) { try TrainingSettings(ModelConfigFile(path: "c.json", values: Self.tinyConfig.merging(["schedule": "step"]) { $1 }), model: c) }
    }

    @Test func badInputFailsBeforeAnyStep() throws {
        let dir = TestSupport.temporaryDirectory("brainmae-bad")
        let config = dir + "/bm.json", good = dir + "/fmri.h5"
        try writeConfig(Self.tinyConfig, to: config)
        try SyntheticFMRI(subjects: 4, rois: 8, frames: 40, seed: 2).write(to: good)
        let weights = dir + "/w.safetensors"
        _ = try BrainMAETrainer(.init(input: good, config: config, output: weights, epochs: 1, seed: 1)).run()
        let before = bytes(weights), stateBefore = bytes(BrainMAETrainer.statePath(forWeights: weights))

        // Too few time points for one window (3 segments × 4 frames = 12).
        let short = dir + "/short.h5"
        try SyntheticFMRI(subjects: 3, rois: 8, frames: 10, seed: 2).write(to: short)
        expectFailure({
            try BrainMAETrainer(.init(input: short, config: config, output: weights, epochs: 1, seed: 1)).run()
        }, { message in message.contains("short.h5") && message.contains("10 frames") })

        // NaN in the series.
        let nan = dir + "/nan.h5"
        let file = try HDF5File.create(nan)
        let group = try file.root.createGroup("fmri")
        var series = SyntheticFMRI(subjects: 2, rois: 8, frames: 20).series(0) + SyntheticFMRI(subjects: 2, rois: 8, frames: 20).series(1)
        series[8 * 13 + 2] = .nan
        try group.writeStrings("ids", ["a", "b"])
        try group.write("timeseries_offsets", [Int64(0), 20, 40])
        try group.write("timeseries", series, shape: [40, 8])
        try file.commit()
        file.close()
        expectFailure({
            try BrainMAETrainer(.init(input: nan, config: config, output: weights, epochs: 1, seed: 1)).run()
        }, { message in message.contains("nan.h5") && message.contains("'a'") && message.contains("frame 13") })

        // A resumed checkpoint whose dimensions disagree with the config.
        var wider = Self.tinyConfig
        wider["tse_dim"] = 24
        let widerConfig = dir + "/wider.json"
        try writeConfig(wider, to: widerConfig)
        expectFailure({
            try BrainMAETrainer(.init(input: good, config: widerConfig, output: weights, epochs: 2, seed: 1, resume: true)).run()
        }, { message in message.contains("w.safetensors") && message.contains("shape") })
        // Another seed than the checkpoint's.
        #expect(throws: NNError.self) { try BrainMAETrainer(.init(input: good, config: config, output: weights, epochs: 2, seed: 2, resume: true)).run() }
        #expect(bytes(weights) == before)
        #expect(bytes(BrainMAETrainer.statePath(forWeights: weights)) == stateBefore)
    }
}
