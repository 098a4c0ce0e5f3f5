/// LayerNorm over the last axis (`<prefix>.weight`, `<prefix>.bias`, biased variance, eps).
public struct LayerNorm: Sendable {
    public let gamma: [Float]
    public let beta: [Float]
    public let eps: Float

    public init(_ store: WeightStore, _ prefix: String, width: Int, eps: Float) throws(NNError) {
        gamma = try store.take(prefix + ".weight", [width]).data
        beta = try store.take(prefix + ".bias", [width]).data
        self.eps = eps
    }

    public var width: Int { gamma.count }

    /// y = LN(x) row by row; x and y may alias. O(rows · width).
    public func apply(_ x: UnsafePointer<Float>, rows: Int, into y: UnsafeMutablePointer<Float>) {
        gamma.withUnsafeBufferPointer { g in
            beta.withUnsafeBufferPointer { b in
                NNKernels.layerNorm(x, rows: rows, width: gamma.count, gamma: g.baseAddress!, beta: b.baseAddress!, eps: eps, into: y)
            }
        }
    }
}
