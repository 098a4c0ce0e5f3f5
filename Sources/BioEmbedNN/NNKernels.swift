import CKernels
import BioEmbedLinalg
import Foundation

/// Element-wise and row-wise kernels of the runtime, over raw buffers (no allocation).
///
/// Shapes are row-major `[rows, width]`. Every function is O(rows · width) except `gemm`.
public enum NNKernels {
    /// C[m,n] = alpha · op(A) · op(B) + beta · C through BLAS (sgemm).
    @inline(__always)
    public static func gemm(
        transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int, alpha: Float = 1,
        a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int, beta: Float = 0,
        c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        guard m > 0, n > 0 else { return }
        if k == 0 {
            for i in 0..<m { for j in 0..<n { c[i * ldc + j] = beta == 0 ? 0 : beta * c[i * ldc + j] } }
            return
        }
        Float.gemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
    }

    /// LayerNorm over each row: (x − mean) / sqrt(var + eps) ⊙ gamma + beta (biased variance).
    /// `x` and `y` may be the same buffer.
    public static func layerNorm(
        _ x: UnsafePointer<Float>, rows: Int, width: Int, gamma: UnsafePointer<Float>, beta: UnsafePointer<Float>?, eps: Float,
        into y: UnsafeMutablePointer<Float>
    ) {
        bio_layer_norm_f32(x, rows, width, gamma, beta, eps, y)
    }

    /// T5 RMS norm: gamma ⊙ x / sqrt(mean(x²) + eps) (no mean subtraction, no bias).
    public static func rmsNorm(_ x: UnsafePointer<Float>, rows: Int, width: Int, gamma: UnsafePointer<Float>, eps: Float, into y: UnsafeMutablePointer<Float>) {
        for r in 0..<rows {
            let row = x + r * width
            var squares: Float = 0
            for j in 0..<width { squares += row[j] * row[j] }
            let inv = 1 / (squares / Float(width) + eps).squareRoot()
            let out = y + r * width
            for j in 0..<width { out[j] = gamma[j] * (row[j] * inv) }
        }
    }

    // The transcendental kernels are `CKernels` (C, built for AVX-512, AVX2 and baseline x86-64,
    // chosen at load time): exp by Cephes' range reduction and a degree-6 polynomial (relative
    // error ≈ 2e-7), erf by Abramowitz & Stegun 7.1.26 (absolute error < 1.5e-7).

    /// Exact (erf) GELU, ½x(1 + erf(x/√2)), in place.
    public static func geluExact(_ x: UnsafeMutablePointer<Float>, count: Int) {
        bio_gelu_inplace_f32(x, count)
    }

    /// y = GELU(x) (erf form) into another buffer (training keeps x for the backward pass).
    public static func gelu(_ x: UnsafePointer<Float>, count: Int, into y: UnsafeMutablePointer<Float>) {
        bio_gelu_f32(x, y, count)
    }

    /// dy ← dy ⊙ GELU'(x), GELU'(x) = ½(1 + erf(x/√2)) + x·φ(x) (one exponential serves both terms).
    public static func geluBackward(_ dy: UnsafeMutablePointer<Float>, x: UnsafePointer<Float>, count: Int) {
        bio_gelu_backward_f32(dy, x, count)
    }

    /// tanh GELU (`gelu_new`): ½x(1 + tanh(√(2/π)(x + 0.044715x³))), in place.
    /// tanh(u) = sign(u)·(1 − e)/(1 + e) with e = exp(−2|u|) (abs. error ≈ 1e-7).
    public static func geluTanh(_ x: UnsafeMutablePointer<Float>, count: Int) {
        bio_gelu_tanh_f32(x, count)
    }

    /// max(0, x), in place.
    public static func relu(_ x: UnsafeMutablePointer<Float>, count: Int) {
        for i in 0..<count where x[i] < 0 { x[i] = 0 }
    }

    /// Softmax of one row in place; keys with `allowed[j] == 0` (and −∞ scores) get weight 0 (all
    /// masked → all 0). Exponentials in one vectorised pass, the sum in 16 lanes.
    @inline(__always)
    public static func softmaxRow(_ row: UnsafeMutablePointer<Float>, count: Int, allowed: UnsafePointer<UInt8>? = nil) {
        bio_softmax_row_f32(row, count, allowed)
    }

    /// y[r, :] += b for every row.
    public static func addRowVector(_ y: UnsafeMutablePointer<Float>, rows: Int, width: Int, _ b: UnsafePointer<Float>) {
        for r in 0..<rows { let row = y + r * width; for j in 0..<width { row[j] += b[j] } }
    }

    /// y += x (count elements).
    public static func add(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, count: Int) {
        for i in 0..<count { y[i] += x[i] }
    }

    /// Mean of rows `start..<end` of `x` (width columns) into `out`; zero rows → zeros.
    public static func meanRows(_ x: UnsafePointer<Float>, width: Int, rows range: Range<Int>, into out: UnsafeMutablePointer<Float>) {
        var acc = [Double](repeating: 0, count: width)
        for r in range { let row = x + r * width; for j in 0..<width { acc[j] += Double(row[j]) } }
        let n = Double(max(1, range.count))
        for j in 0..<width { out[j] = Float(acc[j] / n) }
    }
}
