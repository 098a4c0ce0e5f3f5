/// AdamW with decoupled weight decay (torch.optim.AdamW, amsgrad off), over a `ParameterSet`.
///
/// Step t (from 1), learning rate lr_t, for every element of every tensor:
/// decayed tensors first get p ← p·(1 − lr_t·wd) (from θ_{t−1}); then m ← β1·m + (1−β1)·g,
/// v ← β2·v + (1−β2)·g², p ← p − lr_t·(m/(1−β1ᵗ)) / (√(v/(1−β2ᵗ)) + eps). O(parameters).
public final class AdamW<S: TrainingScalar>: @unchecked Sendable {
    // @unchecked: owned by one training loop at a time.
    public struct Settings: Sendable, Equatable {
        public var beta1 = 0.9, beta2 = 0.95, eps = 1e-8, weightDecay = 0.05
        public init(beta1: Double = 0.9, beta2: Double = 0.95, eps: Double = 1e-8, weightDecay: Double = 0.05) {
            self.beta1 = beta1; self.beta2 = beta2; self.eps = eps; self.weightDecay = weightDecay
        }
    }

    public let settings: Settings
    public let parameters: ParameterSet<S>
    /// Per-tensor flag: whether weight decay applies.
    public let decayed: [Bool]
    /// First and second moments, laid out like `parameters`.
    public let m: UnsafeMutablePointer<S>
    public let v: UnsafeMutablePointer<S>
    /// Steps taken so far.
    public var step = 0

    public init(_ parameters: ParameterSet<S>, settings: Settings = Settings(), decayed: (String, [Int]) -> Bool) {
        self.parameters = parameters
        self.settings = settings
        self.decayed = zip(parameters.names, parameters.shapes).map { decayed($0, $1) }
        let count = max(parameters.total, 1)
        m = .allocate(capacity: count)
        m.initialize(repeating: 0, count: count)
        v = .allocate(capacity: count)
        v.initialize(repeating: 0, count: count)
    }

    deinit {
        m.deallocate()
        v.deallocate()
    }

    /// One update with the gradients in `parameters.gradients` at learning rate `lr`.
    public func update(learningRate lr: Double) {
        step += 1
        let b1 = S(settings.beta1), b2 = S(settings.beta2), rate = S(lr), eps = S(settings.eps)
        let c1 = 1 - S(pow(settings.beta1, Double(step))), c2 = 1 - S(pow(settings.beta2, Double(step)))
        let shrink = 1 - rate * S(settings.weightDecay)
        nonisolated(unsafe) let (p, g, m, v) = (parameters.values, parameters.gradients, m, v)
        // Element-wise, so the tensors are updated side by side (one range of tensors per core);
        // the result does not depend on the split.
        let tensors = parameters.names.count
        let ranges = (0..<tensors).map { parameters.offsets[$0]..<(parameters.offsets[$0] + parameters.count($0)) }
        let decayed = decayed
        Backprop.parallel(tensors, enabled: parallel) { chunk, _ in
            for i in chunk {
                let range = ranges[i]
                if decayed[i] { for j in range { p[j] *= shrink } }
                for j in range {
                    m[j] = b1 * m[j] + (1 - b1) * g[j]
                    v[j] = b2 * v[j] + (1 - b2) * g[j] * g[j]
                    p[j] -= rate * (m[j] / c1) / ((v[j] / c2).squareRoot() + eps)
                }
            }
        }
    }

    /// Whether `update` may use every BLAS thread's core (set by the trainer for training runs).
    public var parallel = false

    private func pow(_ x: Double, _ y: Double) -> Double { Foundation.pow(x, y) }
}

import Foundation
