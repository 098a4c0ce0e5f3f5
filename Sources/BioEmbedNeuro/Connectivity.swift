import BioEmbedLinalg
import Foundation

/// nilearn's `ConnectivityMeasure` on region time series `[T, N]` (row-major), in float64.
///
/// - Covariance: centred `XᵀX/T` (one SYRK); Ledoit-Wolf shrinks it towards `μI` with sklearn's
///   shrinkage `β/δ` (`β` from `Σ_t(Σ_i x_ti²)²`, an O(T·N) sum, so no second GEMM is needed).
/// - `correlation`: each subject z-scored (ddof 1) first, then `cov_to_corr` (diagonal exactly 1).
/// - `partial_correlation`: `-P_ij/√(P_ii P_jj)` of `P = Σ⁻¹`; `precision`: `Σ⁻¹`.
/// - `tangent`: Riemannian mean `G` by Fletcher's gradient descent (30 iterations, tol 1e-7 on
///   `‖mean log(G^-½ Σ G^-½)‖_F / N²`, step halving), whitening `W = G^-½`, `logm(W Σ_s W)`.
/// - Complexity: O(T·N²) per subject (SYRK) plus O(N³) per inverse or eigendecomposition.
public enum Connectivity {
    /// Covariance `[N, N]` and Ledoit-Wolf shrinkage (0 for the empirical estimator).
    public static func covariance(_ x: Matrix<Double>, estimator: CovarianceEstimator) -> (matrix: Matrix<Double>, shrinkage: Double) {
        var centred = x
        return covariance(centring: &centred, estimator: estimator)
    }

    /// `covariance(_:estimator:)` that centres `x` in place instead of copying it.
    static func covariance(centring x: inout Matrix<Double>, estimator: CovarianceEstimator) -> (matrix: Matrix<Double>, shrinkage: Double) {
        let (t, n) = (x.rows, x.columns)
        var sumSquaresPerRow = [Double](repeating: 0, count: t)
        var means = [Double](repeating: 0, count: n)
        x.storage.withUnsafeMutableBufferPointer { s in
            means.withUnsafeMutableBufferPointer { m in
                sumSquaresPerRow.withUnsafeMutableBufferPointer { rowSS in
                    guard let p = s.baseAddress, let mean = m.baseAddress else { return }
                    for i in 0..<t { let row = p + i * n; for j in 0..<n { mean[j] += row[j] } }
                    for j in 0..<n { mean[j] /= Double(t) }
                    for i in 0..<t {
                        let row = p + i * n
                        var rowSum = 0.0
                        for j in 0..<n {
                            let v = row[j] - mean[j]
                            row[j] = v
                            rowSum += v * v
                        }
                        rowSS[i] = rowSum
                    }
                }
            }
        }
        return estimate(centred: x, rowSumSquares: sumSquaresPerRow, estimator: estimator)
    }

    /// The covariance estimate of `zscore_sample(x)` (nilearn's correlation path: standardise, then
    /// estimate, then `cov_to_corr`) in three passes over `x` (column means, deviations, scaled copy)
    /// instead of z-scoring and centring again separately. The z-scored columns have mean zero up to
    /// rounding (≈1e-17), which the separate centring would subtract.
    static func standardizedCovariance(_ x: Matrix<Double>, estimator: CovarianceEstimator) -> (matrix: Matrix<Double>, shrinkage: Double) {
        let (t, n) = (x.rows, x.columns)
        guard t > 1, n > 0 else { return covariance(x, estimator: estimator) }
        let scratch = UnsafeMutablePointer<Double>.allocate(capacity: 2 * n)
        defer { scratch.deallocate() }
        let mean = scratch, scale = scratch + n
        scratch.initialize(repeating: 0, count: 2 * n)
        var rowSS = [Double](repeating: 0, count: t)
        let z = x.storage.withUnsafeBufferPointer { source in
            [Double](unsafeUninitializedCapacity: t * n) { out, initialized in
                let p = source.baseAddress!, q = out.baseAddress!
                for i in 0..<t { let row = p + i * n; for j in 0..<n { mean[j] += row[j] } }
                for j in 0..<n { mean[j] /= Double(t) }
                for i in 0..<t { let row = p + i * n; for j in 0..<n { let d = row[j] - mean[j]; scale[j] += d * d } }
                for j in 0..<n {
                    let sd = (scale[j] / Double(t - 1)).squareRoot()
                    scale[j] = sd < Double.ulpOfOne ? 1 : 1 / sd
                }
                rowSS.withUnsafeMutableBufferPointer { rs in
                    for i in 0..<t {
                        let row = p + i * n, zrow = q + i * n
                        var rowSum = 0.0
                        for j in 0..<n {
                            let v = (row[j] - mean[j]) * scale[j]
                            zrow[j] = v
                            rowSum += v * v
                        }
                        rs[i] = rowSum
                    }
                }
                initialized = t * n
            }
        }
        return estimate(centred: Matrix(rows: t, columns: n, storage: z), rowSumSquares: rowSS, estimator: estimator)
    }

    /// Empirical or Ledoit-Wolf covariance of centred data with its per-row sums of squares.
    static func estimate(centred x: Matrix<Double>, rowSumSquares: [Double], estimator: CovarianceEstimator) -> (matrix: Matrix<Double>, shrinkage: Double) {
        let (t, n) = (x.rows, x.columns)
        var cov = LinearAlgebra.gram(x)  // XᵀX
        var xtxFrobenius2 = 0.0, trace = 0.0
        let inverseT = 1 / Double(t)
        cov.storage.withUnsafeMutableBufferPointer { c in
            for i in 0..<c.count { xtxFrobenius2 += c[i] * c[i]; c[i] *= inverseT }
            for i in 0..<n { trace += c[i * n + i] }
        }
        guard estimator == .ledoitWolf, n > 1 else { return (cov, 0) }
        let mu = trace / Double(n)
        let beta0 = rowSumSquares.reduce(0) { $0 + $1 * $1 }  // Σ_ij [(X²)ᵀX²]_ij
        let delta0 = xtxFrobenius2 / Double(t * t)
        var beta = 1 / Double(n * t) * (beta0 / Double(t) - delta0)
        var delta = delta0 - 2 * mu * trace + Double(n) * mu * mu
        delta /= Double(n)
        beta = min(beta, delta)
        let shrinkage = beta == 0 ? 0 : beta / delta
        cov.storage.withUnsafeMutableBufferPointer { c in
            for i in 0..<c.count { c[i] *= (1 - shrinkage) }
            for i in 0..<n { c[i * n + i] += shrinkage * mu }
        }
        return (cov, shrinkage)
    }

    /// nilearn `cov_to_corr`: `C_ij / √(C_ii C_jj)` with the diagonal set to exactly 1.
    public static func covarianceToCorrelation(_ c: Matrix<Double>) -> Matrix<Double> {
        let n = c.rows
        var out = c
        let d = (0..<n).map { 1 / c[$0, $0].squareRoot() }
        out.storage.withUnsafeMutableBufferPointer { o in
            d.withUnsafeBufferPointer { d in
                for i in 0..<n {
                    let row = o.baseAddress! + i * n, di = d[i]
                    for j in 0..<n { row[j] = row[j] * di * d[j] }
                    row[i] = 1
                }
            }
        }
        return out
    }

    /// Inverse of a symmetric positive-definite matrix (Cholesky), symmetric.
    public static func inverse(_ c: Matrix<Double>) throws(LinalgError) -> Matrix<Double> {
        try LinearAlgebra.symmetricPositiveDefiniteInverse(c)
    }

    /// One subject's matrix for a non-tangent kind (`tangent` gives the covariance it starts from).
    public static func measure(_ x: Matrix<Double>, kind: ConnectivityKind, estimator: CovarianceEstimator) throws(LinalgError) -> Matrix<Double> {
        if kind == .correlation {
            return covarianceToCorrelation(standardizedCovariance(x, estimator: estimator).matrix)
        }
        return try fromCovariance(covariance(x, estimator: estimator).matrix, kind: kind)
    }

    /// `covariance`/`tangent` (the matrix itself), `precision` or `partial_correlation` from the
    /// estimated covariance of the raw series (so several kinds share one estimate).
    public static func fromCovariance(_ c: Matrix<Double>, kind: ConnectivityKind) throws(LinalgError) -> Matrix<Double> {
        switch kind {
        case .covariance, .tangent, .correlation:
            return c
        case .precision:
            return try inverse(c)
        case .partialCorrelation:
            var p = covarianceToCorrelation(try inverse(c))
            for i in 0..<p.storage.count { p.storage[i] = -p.storage[i] }
            for i in 0..<p.rows { p.storage[i * p.rows + i] = 1 }
            return p
        }
    }

    /// `V·diag(f(λ))·Vᵀ` of a symmetric matrix (nilearn `_map_eigenvalues`).
    public static func mapEigenvalues(_ a: Matrix<Double>, _ f: (Double) -> Double) throws(LinalgError) -> Matrix<Double> {
        let (values, vectors) = try LinearAlgebra.symmetricEigen(a)
        return form(values.map(f), vectors)
    }

    static func form(_ values: [Double], _ vectors: Matrix<Double>) -> Matrix<Double> {
        var scaled = vectors
        let n = vectors.rows
        for i in 0..<n { for k in 0..<n { scaled.storage[i * n + k] *= values[k] } }
        return try! LinearAlgebra.matmul(scaled, vectors, transposeB: true)
    }

    /// Fletcher's Riemannian (geometric) mean of SPD matrices, nilearn `_geometric_mean`.
    public static func geometricMean(_ matrices: [Matrix<Double>], maxIterations: Int = 30, tolerance: Double = 1e-7) throws(LinalgError) -> Matrix<Double> {
        let n = matrices[0].rows
        var mean = Matrix<Double>(rows: n, columns: n)
        for m in matrices { for i in 0..<mean.storage.count { mean.storage[i] += m.storage[i] } }
        for i in 0..<mean.storage.count { mean.storage[i] /= Double(matrices.count) }
        var normOld = Double.infinity
        var step = 1.0
        for _ in 0..<maxIterations {
            let (vals, vecs) = try LinearAlgebra.symmetricEigen(mean)
            let inverseSqrt = form(vals.map { ($0 > 0 ? 1 / $0 : .nan).squareRoot() }, vecs)
            var logMean = Matrix<Double>(rows: n, columns: n)
            for m in matrices {
                let w = try whiten(m, inverseSqrt)
                let l = try mapEigenvalues(w, log)
                for i in 0..<logMean.storage.count { logMean.storage[i] += l.storage[i] }
            }
            for i in 0..<logMean.storage.count { logMean.storage[i] /= Double(matrices.count) }
            if logMean.storage.contains(where: \.isNaN) {
                throw LinalgError.notPositiveDefinite(operation: "tangent geometric mean (log of a non-positive eigenvalue)", order: 0)
            }
            var norm = logMean.storage.reduce(0) { $0 + $1 * $1 }.squareRoot()
            let (lv, lvec) = try LinearAlgebra.symmetricEigen(logMean)
            let sqrtMean = form(vals.map { $0.squareRoot() }, vecs)
            let expStep = form(lv.map { exp($0 * step) }, lvec)
            mean = try LinearAlgebra.matmul(try LinearAlgebra.matmul(sqrtMean, expStep), sqrtMean)
            if norm < normOld { normOld = norm }
            else if norm > normOld { step /= 2; norm = normOld }
            if norm / Double(n * n) < tolerance { break }
        }
        return mean
    }

    /// `W·M·W`.
    static func whiten(_ m: Matrix<Double>, _ w: Matrix<Double>) throws(LinalgError) -> Matrix<Double> {
        try LinearAlgebra.matmul(try LinearAlgebra.matmul(w, m), w)
    }

    /// The tangent-space embedding of every subject: (`logm(W Σ_s W)` per subject, mean `G`, `W = G^-½`).
    public static func tangent(_ covariances: [Matrix<Double>]) throws(LinalgError) -> (matrices: [Matrix<Double>], mean: Matrix<Double>, whitening: Matrix<Double>) {
        let mean = try geometricMean(covariances)
        let whitening = try mapEigenvalues(mean) { 1 / $0.squareRoot() }
        var out: [Matrix<Double>] = []
        for c in covariances { out.append(try mapEigenvalues(try whiten(c, whitening), log)) }
        return (out, mean, whitening)
    }

    /// nilearn `sym_matrix_to_vec`: the lower triangle row by row ((0,0), (1,0), (1,1), ...), the
    /// diagonal divided by √2, or left out with `discardDiagonal`.
    public static func vectorize(_ m: Matrix<Double>, discardDiagonal: Bool) -> [Double] {
        let n = m.rows
        var out: [Double] = []
        out.reserveCapacity(discardDiagonal ? n * (n - 1) / 2 : n * (n + 1) / 2)
        for i in 0..<n {
            for j in 0...i {
                if i == j {
                    if !discardDiagonal { out.append(m.storage[i * n + j] / 2.0.squareRoot()) }
                } else {
                    out.append(m.storage[i * n + j])
                }
            }
        }
        return out
    }

    /// Pearson correlation in rectangular windows `[k·step, k·step + window)`, `k = 0...⌊(T−w)/step⌋`
    /// (`np.corrcoef` per window, clipped to [−1, 1]). Returns `[K][N·N]`.
    public static func slidingWindowCorrelation(_ x: Matrix<Double>, window: Int, step: Int) -> [[Double]] {
        let (t, n) = (x.rows, x.columns)
        guard window >= 2, step >= 1, t >= window else { return [] }
        var out: [[Double]] = []
        var start = 0
        while start + window <= t {
            let slice = Matrix<Double>(rows: window, columns: n, storage: Array(x.storage[(start * n)..<((start + window) * n)]))
            let c = covariance(slice, estimator: .empirical).matrix
            let d = (0..<n).map { c[$0, $0].squareRoot() }
            var r = [Double](repeating: 0, count: n * n)
            for i in 0..<n { for j in 0..<n { r[i * n + j] = min(1, max(-1, c.storage[i * n + j] / d[i] / d[j])) } }
            out.append(r)
            start += step
        }
        return out
    }

    /// Standard deviation (ddof 1) over windows of `arctanh(r)`, diagonal clipped to 0.999999.
    public static func fisherZStd(_ windows: [[Double]], regions n: Int) -> [Double] {
        let k = windows.count
        guard k >= 2 else { return [Double](repeating: .nan, count: n * n) }
        var mean = [Double](repeating: 0, count: n * n)
        var ss = [Double](repeating: 0, count: n * n)
        func z(_ r: Double, _ diagonal: Bool) -> Double { atanh(diagonal ? min(r, 0.999999) : r) }
        for w in windows { for i in 0..<(n * n) { mean[i] += z(w[i], i / n == i % n) } }
        for i in 0..<(n * n) { mean[i] /= Double(k) }
        for w in windows { for i in 0..<(n * n) { let d = z(w[i], i / n == i % n) - mean[i]; ss[i] += d * d } }
        return ss.map { ($0 / Double(k - 1)).squareRoot() }
    }
}
