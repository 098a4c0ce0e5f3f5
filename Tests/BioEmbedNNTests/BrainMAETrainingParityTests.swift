import BioEmbedHDF5
import BioEmbedNN
import Foundation
import Testing
import _BioEmbedTestSupport

/// BrainMAE pre-training against `training.h5` (docs/models.md, BrainMAE training step): loss, every parameter
/// gradient, intermediate gradients, the 5-step AdamW trajectory and the embedding after
/// training, in float64 (≤1e-8 relative) and float32 (the README's tolerances). Every shape is
/// read from the fixture and its config.
@Suite(.serialized)
struct BrainMAETrainingParityTests {
    struct Fixture {
        let config: BrainMAEConfig
        let folder: String
        let file: HDF5File
        var root: HDF5Group { file.root }
    }

    func fixture(_ variant: String) throws -> Fixture {
        let folder = TestSupport.fixture("encoders/brainmae/" + variant)
        let config = try BrainMAEConfig(try ModelConfigFile(path: folder + "/config.json"))
        return Fixture(config: config, folder: folder, file: try HDF5File.open(folder + "/training.h5"))
    }

    func model<S: TrainingScalar>(_ f: Fixture, as: S.Type) throws -> BrainMAETrainingModel<S> {
        let loaded: (parameters: ParameterSet<S>, encoderPositions: [S]?, decoderPositions: [S]?) =
            try TrainingCheckpoint.loadParameters(config: f.config, path: f.folder + "/model.safetensors")
        return BrainMAETrainingModel(
            config: f.config, parameters: loaded.parameters, encoderPositions: loaded.encoderPositions, decoderPositions: loaded.decoderPositions)
    }

    /// Segments `[B, K, N, τ]` of a `[B, N, T]` dataset (values widened from float32).
    func segments<S: TrainingScalar>(_ values: [Float], shape: [Int], tau: Int, as: S.Type) -> (segments: [S], batch: Int, k: Int) {
        let (b, n, t) = (shape[shape.count - 3], shape[shape.count - 2], shape[shape.count - 1])
        var out: [S] = []
        for i in 0..<b {
            out += BrainMAETrainingModel<S>.segment(values[(i * n * t)..<((i + 1) * n * t)].map { S($0) }, rois: n, frames: t, length: tau)
        }
        return (out, b, t / tau)
    }

    /// Largest excess of |a − b| over atol + rtol·|b| (≤ 0 passes).
    func excess(_ a: [Double], _ b: [Double], atol: Double, rtol: Double) -> Double {
        guard a.count == b.count else { return .infinity }
        var worst = -Double.infinity
        for i in 0..<a.count { worst = max(worst, abs(a[i] - b[i]) - atol - rtol * abs(b[i])) }
        return a.isEmpty ? 0 : (worst.isNaN ? .infinity : worst)
    }

    func relativeL2(_ a: [Double], _ b: [Double]) -> Double {
        var num = 0.0, den = 0.0
        for i in 0..<min(a.count, b.count) { num += (a[i] - b[i]) * (a[i] - b[i]); den += b[i] * b[i] }
        return den == 0 ? num.squareRoot() : (num / den).squareRoot()
    }

    /// Key-bias entries (softmax-invariant): all of `k_proj.bias`, the middle third of `qkv.bias`.
    func keyBias(_ name: String, index: Int, count: Int) -> Bool {
        if name.hasSuffix("attn.k_proj.bias") { return true }
        if name.hasSuffix("attn.qkv.bias") { return index >= count / 3 && index < 2 * count / 3 }
        return false
    }

    func gradientCheck<S: TrainingScalar>(_ variant: String, as type: S.Type) throws {
        let f = try fixture(variant)
        let m = try model(f, as: S.self)
        let fixtures = try HDF5File.open(f.folder + "/fixtures.h5")
        let input = try fixtures.root.dataset("input")
        let (segs, b, k) = segments(try input.read(as: Float.self), shape: input.shape, tau: f.config.segmentLength, as: S.self)
        let mask = try fixtures.root.dataset("roi_mask").read(as: Float.self).map { S($0) }
        let loss = m.step(segments: segs, mask: mask, batch: b, segmentCount: k)
        let double = S.self == Double.self
        let expectedLoss = try f.root.dataset(double ? "loss" : "loss_float32").read(as: Double.self)
        #expect(excess(loss, expectedLoss, atol: 0, rtol: double ? 1e-11 : 1e-5) <= 0, "\(variant) loss \(loss) vs \(expectedLoss)")

        let grads = try f.root.group("grad")
        let names = try grads.children().map(\.name)
        #expect(Set(names) == Set(m.parameters.names), "\(variant): gradient names differ from the trainable parameters")
        var largest = 0.0
        for name in names { for g in try grads.dataset(name).read(as: Double.self) { largest = max(largest, abs(g)) } }
        for name in names {
            let expected = try grads.dataset(name).read(as: Double.self)
            let found = m.parameters.gradient(name).map { Double($0) }
            if double {
                #expect(excess(found, expected, atol: 1e-10, rtol: 1e-8) <= 0, "\(variant) grad \(name)")
            } else {
                #expect(excess(found, expected, atol: 1e-5 * largest, rtol: 1e-3) <= 0, "\(variant) f32 grad \(name)")
                let isKeyBias = name.hasSuffix("k_proj.bias")
                if !isKeyBias && !name.hasSuffix("qkv.bias") {
                    #expect(relativeL2(found, expected) <= 1e-4, "\(variant) f32 grad \(name) relative L2 \(relativeL2(found, expected))")
                }
            }
        }
        let intermediate = try f.root.group("grad_intermediate")
        let atol = double ? 1e-10 : 1e-5 * largest, rtol = double ? 1e-8 : 1e-3
        for (name, value) in [("reconstruction", m.reconstructionGradient), ("tokens", m.tokenGradient), ("states", m.stateGradient)] {
            let expected = try intermediate.dataset(name).read(as: Double.self)
            #expect(excess(value.map { Double($0) }, expected, atol: atol, rtol: rtol) <= 0, "\(variant) ∂L/∂\(name)")
        }
    }

    func trajectory<S: TrainingScalar>(_ variant: String, as type: S.Type) throws {
        let f = try fixture(variant)
        let m = try model(f, as: S.self)
        let double = S.self == Double.self
        let settings = try f.root.stringAttribute("optimizer")
        let json = try JSONSerialization.jsonObject(with: Data(settings.utf8)) as? [String: Any] ?? [:]
        let betas = json["betas"] as? [Double] ?? [0.9, 0.95]
        let lr = json["lr"] as? Double ?? 1e-3
        let adam = AdamW<S>(
            m.parameters, settings: .init(beta1: betas[0], beta2: betas[1], eps: json["eps"] as? Double ?? 1e-8, weightDecay: json["weight_decay"] as? Double ?? 0.05),
            decayed: BrainMAETrainingModel<S>.isDecayed)
        let decayList = try JSONSerialization.jsonObject(with: Data(try f.root.stringAttribute("weight_decay_params").utf8)) as? [String] ?? []
        let decayedNames = Set(zip(m.parameters.names, adam.decayed).filter(\.1).map(\.0))
        #expect(decayedNames == Set(decayList), "\(variant): decay set differs from the fixture's")

        let train = try f.root.group("train")
        let batches = try train.dataset("batches"), masks = try train.dataset("masks")
        let all = try batches.read(as: Float.self), allMasks = try masks.read(as: Float.self)
        let steps = batches.shape[0], per = all.count / steps, perMask = allMasks.count / steps
        let expectedLosses = try train.dataset("loss").read(as: Double.self)
        let expectedNorms = try train.dataset("grad_norm").read(as: Double.self)
        for t in 0..<steps {
            let (segs, b, k) = segments(Array(all[(t * per)..<((t + 1) * per)]), shape: batches.shape, tau: f.config.segmentLength, as: S.self)
            let mask = allMasks[(t * perMask)..<((t + 1) * perMask)].map { S($0) }
            let loss = m.step(segments: segs, mask: mask, batch: b, segmentCount: k)
            let expected = Array(expectedLosses[(t * 3)..<(t * 3 + 3)])
            #expect(excess(loss, expected, atol: double ? 1e-14 : 1e-7, rtol: double ? 1e-11 : 1e-5) <= 0, "\(variant) step \(t + 1) loss \(loss) vs \(expected)")
            let norm = m.parameters.gradientNorm()
            #expect(abs(norm - expectedNorms[t]) <= (double ? 1e-10 : 1e-5) * expectedNorms[t], "\(variant) step \(t + 1) grad norm \(norm) vs \(expectedNorms[t])")
            adam.update(learningRate: lr)
        }
        let after = try f.root.group("after_5_steps")
        for name in m.parameters.names {
            let expected = try after.dataset(name).read(as: Double.self)
            let found = m.parameters.value(name).map { Double($0) }
            var worst = 0.0, squares = 0.0, regular = 0
            for i in 0..<expected.count {
                let diff = abs(found[i] - expected[i])
                if keyBias(name, index: i, count: expected.count) {
                    #expect(diff <= (double ? 1e-9 : 5e-3), "\(variant) key bias \(name)[\(i)] after 5 steps: \(found[i]) vs \(expected[i])")
                } else {
                    worst = max(worst, diff); squares += diff * diff; regular += 1
                }
            }
            #expect(worst <= (double ? 1e-9 : 1e-4), "\(variant) \(name) after 5 steps: max |Δ| \(worst)")
            if !double && regular > 0 { #expect((squares / Double(regular)).squareRoot() <= 1e-5, "\(variant) \(name) after 5 steps: RMS") }
        }
        let eval = try f.root.group("eval")
        let input = try eval.dataset("input")
        let (segs, b, k) = segments(try input.read(as: Float.self), shape: input.shape, tau: f.config.segmentLength, as: S.self)
        let tokens = m.tokens(segments: segs, batch: b, segmentCount: k).map { Double($0) }
        let dm = f.config.encDim, length = k + 1
        let cls = (0..<b).flatMap { i in tokens[(i * length * dm)..<(i * length * dm + dm)] }
        let atol = double ? 1e-8 : 1e-4, rtol = double ? 0 : 1e-4
        #expect(excess(cls, try eval.dataset("embedding_cls_after").read(as: Double.self), atol: atol, rtol: rtol) <= 0, "\(variant) embedding_cls_after")
        #expect(excess(tokens, try eval.dataset("tokens_after").read(as: Double.self), atol: atol, rtol: rtol) <= 0, "\(variant) tokens_after")
    }

    @Test(arguments: ["sg", "ag"])
    func gradientsFloat64(variant: String) throws { try gradientCheck(variant, as: Double.self) }

    @Test(arguments: ["sg", "ag"])
    func gradientsFloat32(variant: String) throws { try gradientCheck(variant, as: Float.self) }

    @Test(arguments: ["sg", "ag"])
    func adamTrajectoryFloat64(variant: String) throws { try trajectory(variant, as: Double.self) }

    @Test(arguments: ["sg", "ag"])
    func adamTrajectoryFloat32(variant: String) throws { try trajectory(variant, as: Float.self) }
}
