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
        for r in 0..<rows {
            let row = x + r * width
            var sum = 0.0
            for j in 0..<width { sum += Double(row[j]) }
            let mean = sum / Double(width)
            var squares = 0.0
            for j in 0..<width { let d = Double(row[j]) - mean; squares += d * d }
            let inv = Float(1 / (squares / Double(width) + Double(eps)).squareRoot())
            let m = Float(mean)
            let out = y + r * width
            if let beta {
                for j in 0..<width { out[j] = (row[j] - m) * inv * gamma[j] + beta[j] }
            } else {
                for j in 0..<width { out[j] = (row[j] - m) * inv * gamma[j] }
            }
        }
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

    /// Exact (erf) GELU, ½x(1 + erf(x/√2)), in place; erf by `fastErf` (abs. error < 2e-7).
    public static func geluExact(_ x: UnsafeMutablePointer<Float>, count: Int) {
        bio_gelu_inplace_f32(x, count)  // CKernels: AVX-512/AVX2 clones of the same approximation
    }

    /// erf(x) without a libm call (vectorisable): Abramowitz & Stegun 7.1.26,
    /// 1 − t·(a₁ + t·(a₂ + …))·e^{−x²}, t = 1/(1 + p|x|); absolute error < 1.5e-7 (+ float rounding).
    @inline(__always)
    public static func fastErf(_ x: Float) -> Float {
        let a = abs(x)
        let t = 1 / (1 + 0.3275911 * a)
        var y: Float = 1.061405429
        y = y * t - 1.453152027
        y = y * t + 1.421413741
        y = y * t - 0.284496736
        y = y * t + 0.254829592
        let r = 1 - y * t * fastExp(-a * a)
        return x < 0 ? -r : r
    }

    /// tanh GELU (`gelu_new`): ½x(1 + tanh(√(2/π)(x + 0.044715x³))), in place.
    /// tanh(u) = sign(u)·(1 − e)/(1 + e) with e = exp(−2|u|) (`fastExp`; abs. error ≈ 1e-7).
    public static func geluTanh(_ x: UnsafeMutablePointer<Float>, count: Int) {
        bio_gelu_tanh_f32(x, count)  // CKernels: AVX-512/AVX2 clones
    }

    /// exp(x) for float32 without a libm call (so loops vectorise): Cephes' range reduction
    /// x = n·ln2 + r and a degree-7 polynomial; relative error ≈ 2e-7; below −87.3 (and −∞) it
    /// returns 0, above 88.7 exp(88.7).
    @inline(__always)
    public static func fastExp(_ value: Float) -> Float {
        let x = min(max(value, -87.3), 88.7)
        // Round x·log2(e) to the nearest integer n with the 1.5·2²³ trick: the low mantissa bits of
        // `shifted` then hold n, so 2ⁿ is built with wrapping integer ops only (vectorisable).
        let shifted = x * 1.44269504088896341 + 12_582_912
        let n = shifted - 12_582_912
        let r = x - n * 0.693359375 + n * 2.12194440e-4
        var p: Float = 1.9875691500e-4
        p = p * r + 1.3981999507e-3
        p = p * r + 8.3334519073e-3
        p = p * r + 4.1665795894e-2
        p = p * r + 1.6666665459e-1
        p = p * r + 5.0000001201e-1
        p = p * r * r + r + 1
        let scale = Float(bitPattern: (shifted.bitPattern &- 0x4B40_0000 &+ 127) << 23)
        let result = p * scale
        return value < -87.3 ? 0 : result
    }

    /// max(0, x), in place.
    public static func relu(_ x: UnsafeMutablePointer<Float>, count: Int) {
        for i in 0..<count where x[i] < 0 { x[i] = 0 }
    }

    /// Softmax of one row in place; keys with `allowed[j] == 0` get weight 0 (all masked → all 0).
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
