/// Where a Linear layer's weight `[out, in]` and bias `[out]` live in a `ParameterSet`.
struct LinearSlot: Sendable {
    let weight: Int
    let bias: Int
    let inFeatures: Int
    let outFeatures: Int

    init<S>(_ p: ParameterSet<S>, _ prefix: String, in inF: Int, out outF: Int) {
        weight = p.offset(prefix + ".weight")
        bias = p.offset(prefix + ".bias")
        inFeatures = inF
        outFeatures = outF
    }

    static func spec(_ prefix: String, in inF: Int, out outF: Int) -> [(name: String, shape: [Int])] {
        [(prefix + ".weight", [outF, inF]), (prefix + ".bias", [outF])]
    }

    func forward<S>(_ p: ParameterSet<S>, _ x: UnsafePointer<S>, rows: Int, into y: UnsafeMutablePointer<S>, accumulate: Bool = false) {
        Backprop.linear(x, rows: rows, weight: p.values + weight, bias: p.values + bias, in: inFeatures, out: outFeatures, into: y, accumulate: accumulate)
    }

    /// Parameter gradients from `dy`; input gradient into `dx` (overwritten, or added with `accumulate`).
    func backward<S>(
        _ p: ParameterSet<S>, _ dy: UnsafePointer<S>, x: UnsafePointer<S>, rows: Int, dx: UnsafeMutablePointer<S>?, accumulate: Bool = false
    ) {
        Backprop.linearBackward(
            dy, x: x, rows: rows, weight: p.values + weight, in: inFeatures, out: outFeatures, dWeight: p.gradients + weight,
            dBias: p.gradients + bias, dx: dx, accumulateInput: accumulate)
    }
}

/// Where a LayerNorm's γ and β `[width]` live in a `ParameterSet`.
struct NormSlot: Sendable {
    let gamma: Int
    let beta: Int
    let width: Int

    init<S>(_ p: ParameterSet<S>, _ prefix: String, width: Int) {
        gamma = p.offset(prefix + ".weight")
        beta = p.offset(prefix + ".bias")
        self.width = width
    }

    static func spec(_ prefix: String, width: Int) -> [(name: String, shape: [Int])] {
        [(prefix + ".weight", [width]), (prefix + ".bias", [width])]
    }

    /// y = LN(x); x̂ and the inverse deviations are taken from the arena and returned.
    func forward<S>(
        _ p: ParameterSet<S>, _ x: UnsafePointer<S>, rows: Int, eps: S, into y: UnsafeMutablePointer<S>, arena: TrainingArena<S>
    ) -> (xhat: UnsafeMutablePointer<S>, inverse: UnsafeMutablePointer<S>) {
        let xhat = arena.take(rows * width), inverse = arena.take(rows)
        Backprop.layerNorm(
            x, rows: rows, width: width, gamma: p.values + gamma, beta: p.values + beta, eps: eps, into: y, xhat: xhat, inverse: inverse,
            parallel: arena.parallel)
        return (xhat, inverse)
    }

    /// dx += LN'ᵀ·dy; γ, β gradients accumulated.
    func backward<S>(
        _ p: ParameterSet<S>, _ dy: UnsafePointer<S>, rows: Int, cache: (xhat: UnsafeMutablePointer<S>, inverse: UnsafeMutablePointer<S>),
        dx: UnsafeMutablePointer<S>, parallel: Bool = false
    ) {
        Backprop.layerNormBackward(
            dy, rows: rows, width: width, gamma: p.values + gamma, xhat: cache.xhat, inverse: cache.inverse, dGamma: p.gradients + gamma,
            dBeta: p.gradients + beta, dx: dx, parallel: parallel)
    }
}
