import BioEmbedLinalg
import Dispatch

/// Forward and reverse-mode kernels of the training path, over raw row-major buffers, generic over
/// Float/Double. Matrix products go through BLAS (`S.gemm`); everything else is one pass over
/// the buffers with no allocation. Shapes: `[rows, width]`; Linear weights `[out, in]`.
enum Backprop {
    @inline(__always)
    static func gemm<S: TrainingScalar>(
        transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int, alpha: S = 1,
        a: UnsafePointer<S>, lda: Int, b: UnsafePointer<S>, ldb: Int, beta: S = 0, c: UnsafeMutablePointer<S>, ldc: Int
    ) {
        guard m > 0, n > 0 else { return }
        if k == 0 {
            for i in 0..<m { for j in 0..<n { c[i * ldc + j] = beta == 0 ? 0 : beta * c[i * ldc + j] } }
            return
        }
        S.gemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
    }

    /// Per-segment work side by side (see `BLASRuntime.parallel`; bit-for-bit resume relies on
    /// results not depending on the chunking).
    static func chunks(_ count: Int, enabled: Bool) -> Int { BLASRuntime.parallelChunks(count, enabled: enabled) }

    static func parallel(_ count: Int, enabled: Bool, _ body: (Range<Int>, Int) -> Void) {
        BLASRuntime.parallel(count, enabled: enabled, body)
    }

    // MARK: Linear

    /// y = x·Wᵀ + b (`accumulate`: y += x·Wᵀ + b). O(rows·in·out).
    static func linear<S: TrainingScalar>(
        _ x: UnsafePointer<S>, rows: Int, weight: UnsafePointer<S>, bias: UnsafePointer<S>?, in inF: Int, out outF: Int,
        into y: UnsafeMutablePointer<S>, accumulate: Bool = false
    ) {
        guard rows > 0 else { return }
        if let bias, !accumulate {
            // y starts as the bias rows and the GEMM adds to it (β = 1): one pass over y instead of
            // OpenBLAS zeroing it (β = 0) and a second pass adding the bias.
            for r in 0..<rows { (y + r * outF).update(from: bias, count: outF) }
            gemm(transB: true, m: rows, n: outF, k: inF, a: x, lda: inF, b: weight, ldb: inF, beta: 1, c: y, ldc: outF)
            return
        }
        gemm(transB: true, m: rows, n: outF, k: inF, a: x, lda: inF, b: weight, ldb: inF, beta: accumulate ? 1 : 0, c: y, ldc: outF)
        if let bias { for r in 0..<rows { let row = y + r * outF; for j in 0..<outF { row[j] += bias[j] } } }
    }

    /// Reverse of `linear`: dW += dyᵀ·x, db += Σ_rows dy, and dx = dy·W (`accumulateInput`: dx +=);
    /// `dx` nil skips the input gradient. O(rows·in·out).
    static func linearBackward<S: TrainingScalar>(
        _ dy: UnsafePointer<S>, x: UnsafePointer<S>, rows: Int, weight: UnsafePointer<S>, in inF: Int, out outF: Int,
        dWeight: UnsafeMutablePointer<S>, dBias: UnsafeMutablePointer<S>?, dx: UnsafeMutablePointer<S>?, accumulateInput: Bool = false
    ) {
        guard rows > 0 else { return }
        gemm(transA: true, m: outF, n: inF, k: rows, a: dy, lda: outF, b: x, ldb: inF, beta: 1, c: dWeight, ldc: inF)
        if let dBias { for r in 0..<rows { let row = dy + r * outF; for j in 0..<outF { dBias[j] += row[j] } } }
        if let dx { gemm(m: rows, n: inF, k: outF, a: dy, lda: outF, b: weight, ldb: inF, beta: accumulateInput ? 1 : 0, c: dx, ldc: inF) }
    }

    // MARK: LayerNorm

    /// y = (x − μ)/√(σ² + eps) ⊙ γ + β per row (biased variance); keeps x̂ (`[rows, width]`) and
    /// 1/√(σ² + eps) (`[rows]`) for the backward pass. x and y may alias.
    static func layerNorm<S: TrainingScalar>(
        _ x: UnsafePointer<S>, rows: Int, width: Int, gamma: UnsafePointer<S>, beta: UnsafePointer<S>, eps: S,
        into y: UnsafeMutablePointer<S>, xhat: UnsafeMutablePointer<S>, inverse: UnsafeMutablePointer<S>, parallel: Bool = false
    ) {
        let w = S(width)
        nonisolated(unsafe) let (y, xhat, inverse) = (y, xhat, inverse)
        Self.parallel(rows, enabled: parallel) { range, _ in
            for r in range {
                let row = x + r * width, h = xhat + r * width, out = y + r * width
                var sum: S = 0
                for j in 0..<width { sum += row[j] }
                let mean = sum / w
                var squares: S = 0
                for j in 0..<width { let d = row[j] - mean; squares += d * d }
                let inv = 1 / (squares / w + eps).squareRoot()
                inverse[r] = inv
                for j in 0..<width { h[j] = (row[j] - mean) * inv }
                for j in 0..<width { out[j] = h[j] * gamma[j] + beta[j] }
            }
        }
    }

    /// Reverse of `layerNorm`: dγ += Σ dy·x̂, dβ += Σ dy, and
    /// dx += inv·(g − mean(g) − x̂·mean(g·x̂)) with g = dy ⊙ γ. In parallel: dx by rows, dγ and dβ
    /// by columns (each still summed over rows in row order, so the result does not depend on it).
    static func layerNormBackward<S: TrainingScalar>(
        _ dy: UnsafePointer<S>, rows: Int, width: Int, gamma: UnsafePointer<S>, xhat: UnsafePointer<S>, inverse: UnsafePointer<S>,
        dGamma: UnsafeMutablePointer<S>, dBeta: UnsafeMutablePointer<S>, dx: UnsafeMutablePointer<S>, parallel: Bool = false
    ) {
        let w = S(width)
        nonisolated(unsafe) let (dGamma, dBeta, dx) = (dGamma, dBeta, dx)
        Self.parallel(width, enabled: parallel) { columns, _ in
            for r in 0..<rows {
                let g = dy + r * width, h = xhat + r * width
                for j in columns {
                    dGamma[j] += g[j] * h[j]
                    dBeta[j] += g[j]
                }
            }
        }
        Self.parallel(rows, enabled: parallel) { range, _ in
            for r in range {
                let g = dy + r * width, h = xhat + r * width, out = dx + r * width
                var sumG: S = 0, sumGH: S = 0
                for j in 0..<width {
                    let gg = g[j] * gamma[j]
                    sumG += gg
                    sumGH += gg * h[j]
                }
                let meanG = sumG / w, meanGH = sumGH / w, inv = inverse[r]
                for j in 0..<width { out[j] += inv * (g[j] * gamma[j] - meanG - h[j] * meanGH) }
            }
        }
    }

    // MARK: GELU (exact erf form)

    /// y = ½x(1 + erf(x/√2)) for `count` values of x (x kept for the backward pass).
    static func gelu<S: TrainingScalar>(_ x: UnsafePointer<S>, count: Int, into y: UnsafeMutablePointer<S>) {
        S.gelu(x, count: count, into: y)
    }

    /// dy ← dy ⊙ GELU'(x), GELU'(x) = ½(1 + erf(x/√2)) + x·φ(x).
    static func geluBackward<S: TrainingScalar>(_ dy: UnsafeMutablePointer<S>, x: UnsafePointer<S>, count: Int) {
        S.geluBackward(dy, x: x, count: count)
    }

    // MARK: Softmax

    /// Softmax of one row in place; keys with `allowed[j] == 0` (and −∞ scores) get weight 0, an
    /// all-excluded row becomes all zeros.
    @inline(__always)
    static func softmaxRow<S: TrainingScalar>(_ row: UnsafeMutablePointer<S>, count: Int, allowed: UnsafePointer<UInt8>?) {
        S.softmaxRow(row, count: count, allowed: allowed)
    }

    /// Softmax backward in place over `rows` rows: dS = A ⊙ (dA − Σ_j A·dA). Excluded entries
    /// (A = 0) get gradient 0.
    @inline(__always)
    static func softmaxBackward<S: TrainingScalar>(_ dA: UnsafeMutablePointer<S>, a: UnsafePointer<S>, rows: Int, count: Int) {
        for r in 0..<rows {
            let g = dA + r * count, p = a + r * count
            var dot: S = 0
            for j in 0..<count { dot += p[j] * g[j] }
            for j in 0..<count { g[j] = p[j] * (g[j] - dot) }
        }
    }

    // MARK: Multi-head attention over projected rows

    /// For each of `sequences` sequences of `length` rows and each head h: A = softmax(scale·Q_h K_hᵀ)
    /// (keys with `keyAllowed` 0 excluded), out_h = A·V_h. Q, K, V are column slices of one
    /// `[rows, 3w]` buffer (q | k | v); A is kept in `attention` (`[sequences, heads, L, L]`).
    static func selfAttention<S: TrainingScalar>(
        qkv: UnsafePointer<S>, width w: Int, heads: Int, sequences: Int, length: Int, keyAllowed: UnsafePointer<UInt8>?,
        attention: UnsafeMutablePointer<S>, out: UnsafeMutablePointer<S>, parallel enabled: Bool = false
    ) {
        let hd = w / heads, scale = 1 / S(hd).squareRoot(), ld = 3 * w
        nonisolated(unsafe) let (qkvP, aP, outP, allowedP) = (qkv, attention, out, keyAllowed)
        parallel(sequences, enabled: enabled) { range, _ in for s in range {
            let base = qkvP + s * length * ld
            for h in 0..<heads {
                let a = aP + (s * heads + h) * length * length
                gemm(transB: true, m: length, n: length, k: hd, alpha: scale, a: base + h * hd, lda: ld, b: base + w + h * hd, ldb: ld, c: a, ldc: length)
                for i in 0..<length { softmaxRow(a + i * length, count: length, allowed: allowedP.map { $0 + s * length }) }
                gemm(m: length, n: hd, k: length, a: a, lda: length, b: base + 2 * w + h * hd, ldb: ld, c: outP + s * length * w + h * hd, ldc: w)
            }
        } }
    }

    /// Reverse of `selfAttention`: from d(out) (`[rows, w]`) to d(qkv) (`[rows, 3w]`, overwritten).
    /// `scratch` holds `chunks(sequences)`·L·L values. O(sequences·heads·L²·headDim).
    static func selfAttentionBackward<S: TrainingScalar>(
        dOut: UnsafePointer<S>, qkv: UnsafePointer<S>, attention: UnsafePointer<S>, width w: Int, heads: Int, sequences: Int, length: Int,
        dqkv: UnsafeMutablePointer<S>, scratch: UnsafeMutablePointer<S>, parallel enabled: Bool = false
    ) {
        let hd = w / heads, scale = 1 / S(hd).squareRoot(), ld = 3 * w
        nonisolated(unsafe) let (dOutP, qkvP, aP, dqkvP, scratchP) = (dOut, qkv, attention, dqkv, scratch)
        parallel(sequences, enabled: enabled) { range, chunk in for s in range {
            let scratch = scratchP + chunk * length * length
            let base = qkvP + s * length * ld, dBase = dqkvP + s * length * ld, dO = dOutP + s * length * w
            for h in 0..<heads {
                let a = aP + (s * heads + h) * length * length
                // dA = dO_h V_hᵀ; dV_h = Aᵀ dO_h.
                gemm(transB: true, m: length, n: length, k: hd, a: dO + h * hd, lda: w, b: base + 2 * w + h * hd, ldb: ld, c: scratch, ldc: length)
                gemm(transA: true, m: length, n: hd, k: length, a: a, lda: length, b: dO + h * hd, ldb: w, c: dBase + 2 * w + h * hd, ldc: ld)
                softmaxBackward(scratch, a: a, rows: length, count: length)
                gemm(m: length, n: hd, k: length, alpha: scale, a: scratch, lda: length, b: base + w + h * hd, ldb: ld, c: dBase + h * hd, ldc: ld)
                gemm(transA: true, m: length, n: hd, k: length, alpha: scale, a: scratch, lda: length, b: base + h * hd, ldb: ld, c: dBase + w + h * hd, ldc: ld)
            }
        } }
    }
}
