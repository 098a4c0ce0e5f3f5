import BioEmbedCore
import BioEmbedLinalg
import Foundation

/// `nilearn.signal.clean` for one run, in nilearn's order:
/// 1. detrend signals and confounds (remove the mean, then the unit-norm linear ramp);
/// 2. Butterworth band/high/low-pass of signals and confounds (`sosfiltfilt`, odd padding), or the
///    cosine (DCT-II) drift regressors appended to the confounds;
/// 3. confounds z-scored (ddof 1; constant columns become 0), pivoted QR, columns with
///    `|R_ii| > 100·ε` kept, `signals -= Q·(Qᵀ·signals)`;
/// 4. `zscore_sample` (ddof 1, std < ε → 1).
///
/// Signals are `[T, R]` row-major (`Matrix<Double>`), confounds `[T, K]`.
/// - Complexity: O(T·R·(sections + K)) plus two GEMMs for the projection.
public enum SignalCleaner {
    /// Fewer residual degrees of freedom than this (volumes − confounds − detrending terms) get a warning.
    static let minimumDegreesOfFreedom = 5
    /// Cleans `signals` in place.
    ///
    /// - Throws: `NeuroError.invalidParameter` for unusable band edges, `.numerical` when the run is
    ///   too short for the filter's padding (`file` names the input).
    /// - Parameter sampleMask: the volumes to keep (ascending indices; nil keeps all). As in nilearn:
    ///   with a Butterworth filter the censored volumes are first interpolated (`interpolateCensored`),
    ///   the series filtered, and then censored; otherwise they are censored first. `signals` then
    ///   holds the kept volumes only.
    public static func clean(
        _ signals: inout Matrix<Double>, confounds: Matrix<Double>?, tR: Double?, parameters p: CleanParameters, file: String,
        sampleMask: [Int]? = nil
    ) throws(NeuroError) {
        let t = signals.rows
        var conf = confounds
        if let c = conf, c.rows != t {
            throw .invalidInput(file: file, expected: "\(t) confound rows", found: "\(c.rows)")
        }
        if let h = p.highPass, let l = p.lowPass, p.filter == .butterworth, h >= l {
            throw .invalidParameter(name: "high_pass", expected: "a value below low_pass (\(l) Hz)", found: "\(h) Hz")
        }
        if p.needsTR && (tR == nil || !(tR! > 0)) {
            throw .invalidInput(file: file, expected: "a repetition time (pixdim[4] or --t-r) for filtering", found: "none")
        }
        if p.filter == .cosine, let h = p.highPass, let tr = tR {
            let drift = cosineDrift(volumes: t, highPass: h, tR: tr)
            if drift.columns > 0 {
                if let c = conf, c.columns > 0 {
                    if !userCosineOverlaps(c, drift) { conf = hstack(c, drift) }
                    else { Diagnostics.warning("\(file): a confound correlates > 0.9 with a cosine drift term; no cosine terms added (as nilearn)") }
                } else {
                    conf = drift
                }
            }
        }
        let butterworth = p.filter == .butterworth && (p.highPass != nil || p.lowPass != nil)
        var censorAfterFiltering: [Int]?
        if let mask = sampleMask {
            guard !mask.isEmpty else {
                throw .invalidInput(file: file, expected: "at least one volume left after censoring", found: "every volume censored (sample mask empty)")
            }
            guard mask.allSatisfy({ (0..<t).contains($0) }), zip(mask, mask.dropFirst()).allSatisfy({ $0 < $1 }) else {
                throw .invalidInput(file: file, expected: "sample mask indices ascending within 0..<\(t)", found: "\(mask.prefix(8))")
            }
            if butterworth {
                let kept = interpolateCensored(&signals, mask: mask)
                if var c = conf { _ = interpolateCensored(&c, mask: mask); conf = c }
                censorAfterFiltering = kept
            } else {
                signals = rows(signals, mask)
                if let c = conf { conf = rows(c, mask) }
            }
        }
        if p.detrend {
            detrend(&signals)
            if var c = conf { detrend(&c); conf = c }
        }
        if butterworth, let tr = tR {
            let filter = Butterworth.nilearn(order: p.order, highPass: p.highPass, lowPass: p.lowPass, tR: tr)
            guard signals.rows > filter.padLength else {
                throw .numerical(file: file, operation: "Butterworth filtering", detail: "expected more than \(filter.padLength) volumes (the filter's padding), found \(signals.rows)")
            }
            applyFilter(filter, &signals)
            if var c = conf { applyFilter(filter, &c); conf = c }
        }
        if let kept = censorAfterFiltering {
            guard let last = kept.last, last < signals.rows else {
                throw .numerical(file: file, operation: "censoring after filtering", detail: "the sample mask points past the interpolated series (nilearn fails the same way)")
            }
            signals = rows(signals, kept)
            if let c = conf { conf = rows(c, kept) }
        }
        let regressors = (conf?.columns ?? 0) + (p.detrend ? 2 : 0)
        if signals.rows - regressors < minimumDegreesOfFreedom {
            Diagnostics.warning(
                "\(file): \(signals.rows) volumes against \(regressors) regressors (confounds, drift terms, detrending) leave "
                    + "\(signals.rows - regressors) degrees of freedom; the cleaned series will be mostly noise")
        }
        if var c = conf, c.columns > 0 {
            if p.standardizeConfounds { zscore(&c, centred: false) }
            else { scaleByMaxAbs(&c) }
            let q = pivotedOrthonormalBasis(c)
            if q.columns > 0 {
                // signals -= Q (Qᵀ signals)
                let coefficients = try! LinearAlgebra.matmul(q, signals, transposeA: true)
                let fitted = try! LinearAlgebra.matmul(q, coefficients)
                signals.storage.withUnsafeMutableBufferPointer { s in
                    fitted.storage.withUnsafeBufferPointer { f in
                        for i in 0..<s.count { s[i] -= f[i] }
                    }
                }
            }
        }
        if p.standardize == .zscoreSample { zscore(&signals, centred: false) }
    }

    /// nilearn's `_handle_scrubbed_volumes` before a Butterworth filter (extrapolate = False), step by
    /// step: a not-a-knot cubic spline through the kept volumes is evaluated at the rows
    /// `T − 1 − k` for every kept index `k` (nilearn writes `volumes[~sample_mask]` with an
    /// integer mask, and `~k` is `−k − 1`; kept rows get back their own values, censored rows that
    /// mirror a kept one get the spline's); rows outside the kept span then hold NaN and are dropped.
    /// Returns the mask re-indexed for the remaining rows (`mask − mask[0]`), as nilearn does.
    static func interpolateCensored(_ x: inout Matrix<Double>, mask: [Int]) -> [Int] {
        let (t, n) = (x.rows, x.columns)
        var knots: [Double] = [], values: [Double] = []
        knots.reserveCapacity(mask.count)
        values.reserveCapacity(mask.count * n)
        for k in mask {
            knots.append(Double(k))
            values.append(contentsOf: x.storage[(k * n)..<((k + 1) * n)])
        }
        let spline = CubicSpline(knots: knots, values: values, columns: n)
        x.storage.withUnsafeMutableBufferPointer { s in
            for k in mask {
                let row = t - 1 - k
                spline.evaluate(at: Double(row), into: UnsafeMutableBufferPointer(rebasing: s[(row * n)..<((row + 1) * n)]))
            }
        }
        let remaining = (0..<t).filter { i in n == 0 || !(0..<n).allSatisfy { x.storage[i * n + $0].isNaN } }
        if remaining.count < t { x = rows(x, remaining) }
        return mask.map { $0 - mask[0] }
    }

    /// The rows `indices` of `x`.
    static func rows(_ x: Matrix<Double>, _ indices: [Int]) -> Matrix<Double> {
        let n = x.columns
        var out = Matrix<Double>(rows: indices.count, columns: n)
        for (r, i) in indices.enumerated() {
            for j in 0..<n { out.storage[r * n + j] = x.storage[i * n + j] }
        }
        return out
    }

    /// nilearn `_detrend`: subtract the column means, then the projection on the unit-norm ramp.
    public static func detrend(_ x: inout Matrix<Double>) {
        let (t, n) = (x.rows, x.columns)
        guard t > 0, n > 0 else { return }
        var ramp = (0..<t).map(Double.init)
        let mean = ramp.reduce(0, +) / Double(t)
        for i in 0..<t { ramp[i] -= mean }
        let norm = ramp.reduce(0) { $0 + $1 * $1 }.squareRoot()
        if !(norm < Double.ulpOfOne) { for i in 0..<t { ramp[i] /= norm } }
        var means = [Double](repeating: 0, count: n)
        var dots = [Double](repeating: 0, count: n)
        x.storage.withUnsafeMutableBufferPointer { s in
            for i in 0..<t { for j in 0..<n { means[j] += s[i * n + j] } }
            for j in 0..<n { means[j] /= Double(t) }
            for i in 0..<t { for j in 0..<n { s[i * n + j] -= means[j] } }
            for i in 0..<t { let r = ramp[i]; for j in 0..<n { dots[j] += r * s[i * n + j] } }
            for i in 0..<t { let r = ramp[i]; for j in 0..<n { s[i * n + j] -= dots[j] * r } }
        }
    }

    /// `zscore_sample`: centre (unless already centred) and divide by the ddof-1 std (std < ε → 1).
    public static func zscore(_ x: inout Matrix<Double>, centred: Bool) {
        let (t, n) = (x.rows, x.columns)
        guard t > 1, n > 0 else { return }
        let scratch = UnsafeMutablePointer<Double>.allocate(capacity: 3 * n)
        defer { scratch.deallocate() }
        let first = scratch, second = scratch + n, ss = scratch + 2 * n
        scratch.initialize(repeating: 0, count: 3 * n)
        x.storage.withUnsafeMutableBufferPointer { s in
            let p = s.baseAddress!
            if !centred {
                for i in 0..<t { let row = p + i * n; for j in 0..<n { first[j] += row[j] } }
                for j in 0..<n { first[j] /= Double(t) }
                // Centre, summing the centred values on the way for the mean numpy's std takes of them.
                for i in 0..<t { let row = p + i * n; for j in 0..<n { let v = row[j] - first[j]; row[j] = v; second[j] += v } }
            } else {
                for i in 0..<t { let row = p + i * n; for j in 0..<n { second[j] += row[j] } }
            }
            // numpy std(ddof=1) of the (possibly not exactly centred) values: deviations from their mean.
            for j in 0..<n { second[j] /= Double(t) }
            for i in 0..<t { let row = p + i * n; for j in 0..<n { let d = row[j] - second[j]; ss[j] += d * d } }
            for j in 0..<n {
                let sd = (ss[j] / Double(t - 1)).squareRoot()
                ss[j] = sd < Double.ulpOfOne ? 1 : 1 / sd
            }
            for i in 0..<t { let row = p + i * n; for j in 0..<n { row[j] *= ss[j] } }
        }
    }

    static func scaleByMaxAbs(_ x: inout Matrix<Double>) {
        let (t, n) = (x.rows, x.columns)
        var m = [Double](repeating: 0, count: n)
        for i in 0..<t { for j in 0..<n { m[j] = max(m[j], abs(x.storage[i * n + j])) } }
        for i in 0..<t { for j in 0..<n where m[j] > 0 { x.storage[i * n + j] /= m[j] } }
    }

    /// Filters every column with `filter.filtfilt`.
    static func applyFilter(_ filter: Butterworth, _ x: inout Matrix<Double>) {
        let (t, n) = (x.rows, x.columns)
        let zi = filter.initialConditions
        let work = UnsafeMutablePointer<Double>.allocate(capacity: t + 2 * filter.padLength)
        defer { work.deallocate() }
        x.storage.withUnsafeMutableBufferPointer { s in
            for j in 0..<n { filter.filtfilt(s.baseAddress! + j, count: t, stride: n, work: work, zi: zi) }
        }
    }

    /// Orthonormal basis of the columns of `c` by Gram-Schmidt with column pivoting (largest
    /// remaining norm first, re-orthogonalised twice); a column is kept while its residual norm,
    /// the `|R_ii|` of a pivoted QR, exceeds `100·ε` (scipy `qr(pivoting=True)` + nilearn's cut).
    static func pivotedOrthonormalBasis(_ c: Matrix<Double>) -> Matrix<Double> {
        let (t, k) = (c.rows, c.columns)
        var cols: [[Double]] = (0..<k).map { j in (0..<t).map { c.storage[$0 * k + j] } }
        var basis: [[Double]] = []
        var remaining = Array(0..<k)
        let threshold = 100 * Double.ulpOfOne
        while !remaining.isEmpty && basis.count < t {
            var best = remaining[0]
            var bestNorm = -1.0
            for j in remaining {
                let norm = cols[j].reduce(0) { $0 + $1 * $1 }
                if norm > bestNorm { bestNorm = norm; best = j }
            }
            let r = bestNorm.squareRoot()
            if !(r > threshold) { break }
            remaining.removeAll { $0 == best }
            var q = cols[best]
            for _ in 0..<2 {
                for b in basis {
                    var d = 0.0
                    for i in 0..<t { d += b[i] * q[i] }
                    for i in 0..<t { q[i] -= d * b[i] }
                }
            }
            let norm = q.reduce(0) { $0 + $1 * $1 }.squareRoot()
            for i in 0..<t { q[i] /= norm }
            for j in remaining {
                var d = 0.0
                for i in 0..<t { d += q[i] * cols[j][i] }
                for i in 0..<t { cols[j][i] -= d * q[i] }
            }
            basis.append(q)
        }
        var out = Matrix<Double>(rows: t, columns: basis.count)
        for (j, b) in basis.enumerated() { for i in 0..<t { out.storage[i * basis.count + j] = b[i] } }
        return out
    }

    /// DCT-II drift regressors `sqrt(2/T)·cos(π/T·(n+0.5)·k)`, k = 1...floor(2·T·high_pass·TR)
    /// (at most T−1); nilearn's constant column is left out (it is removed by detrending/z-scoring).
    public static func cosineDrift(volumes t: Int, highPass: Double, tR: Double) -> Matrix<Double> {
        let order = min(t - 1, Int((2 * Double(t) * highPass * tR).rounded(.down)))
        guard order > 0 else { return Matrix(rows: t, columns: 0) }
        var m = Matrix<Double>(rows: t, columns: order)
        let norm = (2.0 / Double(t)).squareRoot()
        for k in 1...order {
            for n in 0..<t { m.storage[n * order + k - 1] = norm * cos(Double.pi / Double(t) * (Double(n) + 0.5) * Double(k)) }
        }
        return m
    }

    /// nilearn `_check_cosine_by_user`: any user confound with r > 0.9 to a cosine term (signed:
    /// a confound anti-correlated with a cosine does not count, as in nilearn 0.14).
    static func userCosineOverlaps(_ c: Matrix<Double>, _ drift: Matrix<Double>) -> Bool {
        let t = c.rows
        func column(_ m: Matrix<Double>, _ j: Int) -> [Double] { (0..<t).map { m.storage[$0 * m.columns + j] } }
        func corr(_ a: [Double], _ b: [Double]) -> Double {
            let ma = a.reduce(0, +) / Double(t), mb = b.reduce(0, +) / Double(t)
            var sab = 0.0, saa = 0.0, sbb = 0.0
            for i in 0..<t { sab += (a[i] - ma) * (b[i] - mb); saa += (a[i] - ma) * (a[i] - ma); sbb += (b[i] - mb) * (b[i] - mb) }
            return saa > 0 && sbb > 0 ? sab / (saa * sbb).squareRoot() : 0
        }
        for j in 0..<c.columns {
            let a = column(c, j)
            for k in 0..<drift.columns where corr(a, column(drift, k)) > 0.9 { return true }
        }
        return false
    }

    static func hstack(_ a: Matrix<Double>, _ b: Matrix<Double>) -> Matrix<Double> {
        let n = a.columns + b.columns
        var m = Matrix<Double>(rows: a.rows, columns: n)
        for i in 0..<a.rows {
            for j in 0..<a.columns { m.storage[i * n + j] = a.storage[i * a.columns + j] }
            for j in 0..<b.columns { m.storage[i * n + a.columns + j] = b.storage[i * b.columns + j] }
        }
        return m
    }
}
