import BioEmbedLinalg
import CKernels

/// Non-negative CP (PARAFAC) decomposition of a 3-way tensor by hierarchical ALS, step for step as
/// tensorly 0.10's `non_negative_parafac_hals` (weights all 1, no sparsity, `exact=False`, no
/// normalisation): X ≈ Σ_r a_r ∘ b_r ∘ c_r with A `[I, R]`, B `[J, R]`, C `[K, R]` ≥ 0.
///
/// One iteration updates A, B, C in turn. For mode m: G = ∘_{n≠m} FₙᵀFₙ (`R × R`), M = the
/// MTTKRP X₍ₘ₎·(⊙_{n≠m} Fₙ) (`I_m × R`), then 5 HALS sweeps over the columns k of Fₘ (Gauss–Seidel:
/// later columns see the new earlier ones): Fₘ[:,k] = max(0, (M[:,k] − Fₘ·G[:,k] + G[k,k]·Fₘ[:,k]) /
/// G[k,k]), stopping early when a sweep changes Fₘ by less than 1e-8 of the first sweep's change.
/// After each iteration the relative error √|‖X‖² + ‖X̂‖² − 2⟨M_C, C⟩| / ‖X‖ (tensorly's shortcut,
/// from the last MTTKRP) is recorded; the loop ends after `maxIterations` or when it changes by less
/// than `tolerance` (0 runs every iteration).
///
/// The tensor stays float32 (as `/fmri/dynamic/correlation` stores it; tensorly's float64 copy holds
/// the same values) and every product widens it exactly and sums in double. The MTTKRPs of A and B
/// share Y = X_[IJ×K]·C (C does not change before the C update), and C's is X_[IJ×K]ᵀ·(A ⊙ B): two
/// passes over the tensor per iteration (C kernels, parts of the rows taken in turn by the cores), no
/// unfolded copies.
/// O(iterations · 4·I·J·K·R) time, O(I·J·R) extra memory.
public enum NonNegativeCP {
    public struct Result: Sendable {
        /// A `[I, R]`, B `[J, R]`, C `[K, R]`, row-major.
        public var factors: [[Double]]
        /// Relative reconstruction error after each iteration.
        public var errors: [Double]
    }

    /// HALS sweeps per factor update (tensorly's `n_iter_max=5` for `hals_nnls`).
    public static let sweeps = 5
    /// tensorly's inner stopping ratio (`hals_nnls` `tol`).
    static let sweepTolerance = 1e-8
    /// Parts each pass over the tensor is cut into, taken in turn by the cores (a fixed count: the
    /// weighted sums are added part by part, so the factors do not depend on `--threads`).
    static let passParts = 16

    /// Fits `tensor` (`[I, J, K]` row-major) from `initial` factors (absolute values taken, as
    /// tensorly's initialisation does for non-negative fits).
    public static func fit(
        _ tensor: UnsafeBufferPointer<Float>, shape: (Int, Int, Int), rank: Int, initial: [[Double]], maxIterations: Int, tolerance: Double
    ) -> Result {
        let (I, J, K) = shape
        let sizes = [I, J, K]
        precondition(tensor.count == I * J * K && initial.count == 3 && zip(initial, sizes).allSatisfy { $0.count == $1 * rank })
        var factors = initial.map { $0.map(abs) }
        let x = tensor.baseAddress!
        var normSquared = 0.0
        for v in tensor { normSquared += Double(v) * Double(v) }
        let norm = normSquared.squareRoot()
        let rows = I * J
        var y = [Double](repeating: 0, count: rows * rank)  // X·C, reused by the A and B updates
        var khatriRao = [Double](repeating: 0, count: rows * rank)  // A ⊙ B for the C update
        var errors: [Double] = []
        for iteration in 0..<maxIterations {
            var lastMTTKRP: [Double] = []
            for mode in 0..<3 {
                var gram = [Double](repeating: 1, count: rank * rank)
                for n in 0..<3 where n != mode { hadamardGram(factors[n], rows: sizes[n], rank: rank, into: &gram) }
                var m = [Double](repeating: 0, count: sizes[mode] * rank)
                switch mode {
                case 0:
                    let ct = transposed(factors[2], rows: K, rank: rank)
                    rowsDotFactor(x, rows: rows, n: K, factorT: ct, rank: rank, into: &y)
                    // M_A[i, r] = Σ_j B[j, r] · Y[i·J + j, r]
                    contract(y, factors[1], into: &m, outer: I, inner: J, rank: rank, keepOuter: true)
                case 1:
                    // M_B[j, r] = Σ_i A[i, r] · Y[i·J + j, r]
                    contract(y, factors[0], into: &m, outer: I, inner: J, rank: rank, keepOuter: false)
                default:
                    let mt = rowsWeightedSum(x, rows: rows, n: K, a: factors[0], b: factors[1], inner: J, rank: rank, khatriRao: &khatriRao)
                    m = transposed(mt, rows: rank, rank: K)
                }
                hals(m, gram: gram, factor: &factors[mode], rows: sizes[mode], rank: rank)
                if mode == 2 { lastMTTKRP = m }
            }
            var model = [Double](repeating: 1, count: rank * rank)
            for n in 0..<3 { hadamardGram(factors[n], rows: sizes[n], rank: rank, into: &model) }
            let modelNorm = model.reduce(0, +).squareRoot()
            var inner = 0.0
            for (a, b) in zip(lastMTTKRP, factors[2]) { inner += a * b }
            let error = abs(normSquared + modelNorm * modelNorm - 2 * inner).squareRoot() / norm
            errors.append(error)
            if tolerance > 0, iteration >= 1, abs(errors[errors.count - 2] - error) < tolerance { break }
        }
        return Result(factors: factors, errors: errors)
    }

    /// Sums Y `[outer·inner, rank]` weighted by the other factor F: keeping the outer index,
    /// M[o, r] = Σ_i F[i, r]·Y[o·inner + i, r] (F `[inner, rank]`); else M[i, r] = Σ_o F[o, r]·Y[o·inner + i, r]
    /// (F `[outer, rank]`).
    static func contract(_ y: [Double], _ f: [Double], into m: inout [Double], outer: Int, inner: Int, rank: Int, keepOuter: Bool) {
        y.withUnsafeBufferPointer { yp in
            f.withUnsafeBufferPointer { fp in
                m.withUnsafeMutableBufferPointer { mp in
                    let yb = yp.baseAddress!, fb = fp.baseAddress!, mb = mp.baseAddress!
                    let (targets, terms) = keepOuter ? (outer, inner) : (inner, outer)
                    // each core its own rows of M, every sum in the same order as one core's
                    BLASRuntime.parallel(targets) { range, _ in
                        for t in range {
                            let target = mb + t * rank
                            for s in 0..<terms {
                                let row = yb + (keepOuter ? t &* inner &+ s : s &* inner &+ t) &* rank
                                let weight = fb + s &* rank
                                for r in 0..<rank { target[r] += weight[r] * row[r] }
                            }
                        }
                    }
                }
            }
        }
    }

    /// `[rows, rank]` → `[rank, rows]`.
    static func transposed(_ f: [Double], rows: Int, rank: Int) -> [Double] {
        var t = [Double](repeating: 0, count: f.count)
        for i in 0..<rows { for r in 0..<rank { t[r * rows + i] = f[i * rank + r] } }
        return t
    }

    /// out[i, r] = Σ_j x[i, j]·F[j, r] (F given transposed), parts of the rows taken in turn by the cores.
    static func rowsDotFactor(_ x: UnsafePointer<Float>, rows: Int, n: Int, factorT: [Double], rank: Int, into out: inout [Double]) {
        factorT.withUnsafeBufferPointer { f in
            out.withUnsafeMutableBufferPointer { o in
                let fp = f.baseAddress!, op = o.baseAddress!
                BLASRuntime.parallel(dynamic: BLASRuntime.split(rows, parts: passParts)) { range, _ in
                    bio_rows_dot_factor_f32(x + range.lowerBound * n, range.count, n, fp, rank, op + range.lowerBound * rank)
                }
            }
        }
    }

    /// outᵀ[r, k] = Σ_i w[i, r]·x[i, k] with the Khatri–Rao rows w[i·J + j, r] = A[i, r]·B[j, r] (J = `inner`),
    /// each part of the rows forming the rows of w it reads (into `khatriRao`) and summing them into its own
    /// `[rank, n]`, then added in part order.
    static func rowsWeightedSum(
        _ x: UnsafePointer<Float>, rows: Int, n: Int, a: [Double], b: [Double], inner: Int, rank: Int, khatriRao: inout [Double]
    ) -> [Double] {
        let parts = BLASRuntime.split(rows, parts: passParts)
        var partial = [Double](repeating: 0, count: parts.count * rank * n)
        a.withUnsafeBufferPointer { ap in
            b.withUnsafeBufferPointer { bp in
                khatriRao.withUnsafeMutableBufferPointer { w in
                    partial.withUnsafeMutableBufferPointer { p in
                        let ab = ap.baseAddress!, bb = bp.baseAddress!, wp = w.baseAddress!, pp = p.baseAddress!
                        BLASRuntime.parallel(dynamic: parts) { range, part in
                            for row in range {
                                let (i, j) = row.quotientAndRemainder(dividingBy: inner)
                                for r in 0..<rank { wp[row &* rank &+ r] = ab[i &* rank &+ r] * bb[j &* rank &+ r] }
                            }
                            bio_rows_weighted_sum_f32(x + range.lowerBound * n, range.count, n, wp + range.lowerBound * rank, rank, pp + part * rank * n)
                        }
                    }
                }
            }
        }
        var total = Array(partial[0..<(rank * n)])
        for c in 1..<parts.count { for i in 0..<(rank * n) { total[i] += partial[c * rank * n + i] } }
        return total
    }

    /// gram ∘= FᵀF for F `[rows, rank]`.
    static func hadamardGram(_ f: [Double], rows: Int, rank: Int, into gram: inout [Double]) {
        var product = [Double](repeating: 0, count: rank * rank)
        f.withUnsafeBufferPointer { fp in
            product.withUnsafeMutableBufferPointer { p in
                Double.gemm(transA: true, transB: false, m: rank, n: rank, k: rows, alpha: 1, a: fp.baseAddress!, lda: rank, b: fp.baseAddress!,
                            ldb: rank, beta: 0, c: p.baseAddress!, ldc: rank)
            }
        }
        for i in 0..<(rank * rank) { gram[i] *= product[i] }
    }

    /// tensorly's `hals_nnls(Mᵀ, G, Fᵀ, n_iter_max: 5)`: column k of F (row k of V = Fᵀ) in turn.
    static func hals(_ m: [Double], gram: [Double], factor: inout [Double], rows: Int, rank: Int) {
        // V = Fᵀ, `[rank, rows]`: row updates run over contiguous memory
        var v = [Double](repeating: 0, count: rank * rows)
        for i in 0..<rows { for k in 0..<rank { v[k * rows + i] = factor[i * rank + k] } }
        var first = 0.0
        var next = [Double](repeating: 0, count: rows)
        for sweep in 0..<sweeps {
            var change = 0.0
            for k in 0..<rank {
                let diagonal = gram[k * rank + k]
                guard diagonal != 0 else { continue }
                // num = UtM[k,:] − G[k,:]·V + G[k,k]·V[k,:]
                for i in 0..<rows { next[i] = m[i * rank + k] }
                for l in 0..<rank {
                    let g = gram[k * rank + l]
                    let row = l * rows
                    for i in 0..<rows { next[i] -= g * v[row + i] }
                }
                let row = k * rows
                for i in 0..<rows {
                    let updated = max(0, (next[i] + diagonal * v[row + i]) / diagonal)
                    let d = v[row + i] - updated
                    change += d * d
                    v[row + i] = updated
                }
            }
            if sweep == 0 { first = change }
            if change < sweepTolerance * first { break }
        }
        for i in 0..<rows { for k in 0..<rank { factor[i * rank + k] = v[k * rows + i] } }
    }
}
