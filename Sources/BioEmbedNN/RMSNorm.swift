/// T5's RMS norm: g ⊙ x / sqrt(mean(x²) + eps), weight only (`<prefix>.weight`).
public struct RMSNorm: Sendable {
    public let gamma: [Float]
    public let eps: Float

    public init(_ store: WeightStore, _ prefix: String, width: Int, eps: Float) throws(NNError) {
        gamma = try store.take(prefix + ".weight", [width]).data
        self.eps = eps
    }

    /// y = RMS(x) row by row; x and y may alias. O(rows · width).
    public func apply(_ x: UnsafePointer<Float>, rows: Int, into y: UnsafeMutablePointer<Float>) {
        gamma.withUnsafeBufferPointer { g in
            NNKernels.rmsNorm(x, rows: rows, width: gamma.count, gamma: g.baseAddress!, eps: eps, into: y)
        }
    }
}
