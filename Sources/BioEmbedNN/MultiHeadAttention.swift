/// Scaled dot-product attention over the heads of one sequence, on projected Q, K, V.
///
/// Q is `[queries, heads·headDim]` (row stride `ldq`), K and V `[keys, heads·headDim]`; head h
/// uses columns h·headDim ..< (h+1)·headDim (the PyTorch split). For each head:
/// S = scale · Q_h K_hᵀ (+ relative bias) , masked keys get weight 0, A = softmax_rows(S),
/// out_h = A V_h. Two sgemms per head over strided views (no copies); O(heads · queries · keys ·
/// headDim). `scratch` holds `queries · keys` floats and is reused across heads.
public enum MultiHeadAttention {
    /// Relative-position bias: `values[h · (2·keys − 1) + (j − i + keys − 1)]` is added to S_h[i, j]
    /// (needs queries == keys; built per length by `T5RelativePositionBias.table`).
    public struct RelativeBias {
        public let values: UnsafePointer<Float>
        public init(_ values: UnsafePointer<Float>) { self.values = values }
    }

    public static func apply(
        q: UnsafePointer<Float>, ldq: Int, k: UnsafePointer<Float>, ldk: Int, v: UnsafePointer<Float>, ldv: Int,
        out: UnsafeMutablePointer<Float>, ldo: Int, queries: Int, keys: Int, heads: Int, headDim: Int, scale: Float,
        keyAllowed: UnsafePointer<UInt8>? = nil, bias: RelativeBias? = nil, scratch: UnsafeMutablePointer<Float>
    ) {
        guard queries > 0, keys > 0 else { return }
        let span = 2 * keys - 1
        for h in 0..<heads {
            NNKernels.gemm(
                transB: true, m: queries, n: keys, k: headDim, alpha: scale, a: q + h * headDim, lda: ldq, b: k + h * headDim, ldb: ldk,
                c: scratch, ldc: keys)
            for i in 0..<queries {
                let row = scratch + i * keys
                if let bias {
                    let b = bias.values + h * span + (keys - 1 - i)
                    for j in 0..<keys { row[j] += b[j] }
                }
                NNKernels.softmaxRow(row, count: keys, allowed: keyAllowed)
            }
            NNKernels.gemm(m: queries, n: headDim, k: keys, a: scratch, lda: keys, b: v + h * headDim, ldb: ldv, c: out + h * headDim, ldc: ldo)
        }
    }
}
