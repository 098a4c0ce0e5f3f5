import BioEmbedLinalg

/// A fully connected layer y = x·Wᵀ + b, W stored `[out, in]` (PyTorch layout), b optional.
///
/// `apply` runs one GEMM over all rows at once: O(rows · in · out). The weights are float32
/// (sgemm), or bfloat16 when the weight store asks for it (`WeightStore.gemmPrecision`): then only
/// the bfloat16 copy is kept and the product runs in bfloat16 with float32 accumulation
/// (`BFloat16.linear`); the bias stays float32.
public struct Linear: Sendable {
    public let inFeatures: Int
    public let outFeatures: Int
    /// float32 weights (empty when the layer is bfloat16).
    public let weight: [Float]
    /// bfloat16 weights `[out, in]` (empty when the layer is float32).
    let weightBF16: [UInt16]
    public let bias: [Float]?

    public init(weight: Tensor, bias: Tensor?, precision: Precision = .fp32) {
        self.init(out: weight.shape[0], in: weight.shape[1], weight: weight.data, bias: bias?.data, precision: precision)
    }

    init(out: Int, in inFeatures: Int, weight: [Float], bias: [Float]?, precision: Precision) {
        switch precision {
        case .fp32: self.init(out: out, in: inFeatures, weight: weight, weightBF16: [], bias: bias)
        case .bf16: self.init(out: out, in: inFeatures, weight: [], weightBF16: BFloat16.converted(weight), bias: bias)
        }
    }

    private init(out: Int, in inFeatures: Int, weight: [Float], weightBF16: [UInt16], bias: [Float]?) {
        outFeatures = out
        self.inFeatures = inFeatures
        self.weight = weight
        self.weightBF16 = weightBF16
        self.bias = bias
    }

    /// Loads `<prefix>.weight` [out, in] and, when `bias`, `<prefix>.bias` [out], in the store's
    /// GEMM precision, or in fp32 when `keepFP32` (a layer whose inputs have too wide a range for
    /// bfloat16, as T5's feed-forward output projection).
    public init(_ store: WeightStore, _ prefix: String, in inFeatures: Int, out outFeatures: Int, bias: Bool = true, keepFP32: Bool = false) throws(NNError) {
        let w = try store.take(prefix + ".weight", [outFeatures, inFeatures])
        let b = bias ? try store.take(prefix + ".bias", [outFeatures]) : nil
        self.init(weight: w, bias: b, precision: keepFP32 ? .fp32 : store.gemmPrecision)
    }

    /// The layers' weights stacked row-wise (same input width, no biases, same precision): one
    /// GEMM gives `[rows, out₁ | out₂ | …]`.
    static func stacked(_ parts: [Linear]) -> Linear {
        Linear(out: parts.reduce(0) { $0 + $1.outFeatures }, in: parts[0].inFeatures, weight: parts.flatMap(\.weight),
               weightBF16: parts.flatMap(\.weightBF16), bias: nil)
    }

    /// y[rows, out] = x[rows, in]·Wᵀ + b; with `accumulate`, y += x·Wᵀ (+ b).
    /// `ldx`/`ldy` default to the feature counts (set them to read/write column slices).
    public func apply(_ x: UnsafePointer<Float>, rows: Int, into y: UnsafeMutablePointer<Float>, accumulate: Bool = false, ldx: Int? = nil, ldy: Int? = nil) {
        guard rows > 0 else { return }
        let ldy = ldy ?? outFeatures
        if weightBF16.isEmpty {
            weight.withUnsafeBufferPointer { w in
                NNKernels.gemm(
                    transB: true, m: rows, n: outFeatures, k: inFeatures, a: x, lda: ldx ?? inFeatures, b: w.baseAddress!, ldb: inFeatures,
                    beta: accumulate ? 1 : 0, c: y, ldc: ldy)
            }
        } else {
            weightBF16.withUnsafeBufferPointer { w in
                BFloat16.linear(x, lda: ldx ?? inFeatures, weights: w.baseAddress!, m: rows, n: outFeatures, k: inFeatures, into: y, ldc: ldy,
                                accumulate: accumulate)
            }
        }
        if let bias {
            bias.withUnsafeBufferPointer { b in
                for r in 0..<rows { let row = y + r * ldy; for j in 0..<outFeatures { row[j] += b[j] } }
            }
        }
    }
}
