/// A fully connected layer y = x·Wᵀ + b, W stored `[out, in]` (PyTorch layout), b optional.
///
/// `apply` runs one sgemm over all rows at once: O(rows · in · out).
public struct Linear: Sendable {
    public let inFeatures: Int
    public let outFeatures: Int
    public let weight: [Float]
    public let bias: [Float]?

    public init(weight: Tensor, bias: Tensor?) {
        outFeatures = weight.shape[0]
        inFeatures = weight.shape[1]
        self.weight = weight.data
        self.bias = bias?.data
    }

    /// Loads `<prefix>.weight` [out, in] and, when `bias`, `<prefix>.bias` [out].
    public init(_ store: WeightStore, _ prefix: String, in inFeatures: Int, out outFeatures: Int, bias: Bool = true) throws(NNError) {
        let w = try store.take(prefix + ".weight", [outFeatures, inFeatures])
        let b = bias ? try store.take(prefix + ".bias", [outFeatures]) : nil
        self.init(weight: w, bias: b)
    }

    /// y[rows, out] = x[rows, in]·Wᵀ + b; with `accumulate`, y += x·Wᵀ (+ b).
    /// `ldx`/`ldy` default to the feature counts (set them to read/write column slices).
    public func apply(_ x: UnsafePointer<Float>, rows: Int, into y: UnsafeMutablePointer<Float>, accumulate: Bool = false, ldx: Int? = nil, ldy: Int? = nil) {
        guard rows > 0 else { return }
        let ldy = ldy ?? outFeatures
        weight.withUnsafeBufferPointer { w in
            NNKernels.gemm(
                transB: true, m: rows, n: outFeatures, k: inFeatures, a: x, lda: ldx ?? inFeatures, b: w.baseAddress!, ldb: inFeatures,
                beta: accumulate ? 1 : 0, c: y, ldc: ldy)
        }
        if let bias {
            bias.withUnsafeBufferPointer { b in
                for r in 0..<rows { let row = y + r * ldy; for j in 0..<outFeatures { row[j] += b[j] } }
            }
        }
    }
}
