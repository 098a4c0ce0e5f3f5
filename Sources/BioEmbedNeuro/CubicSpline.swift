/// Cubic spline interpolation through knots `(x_k, y_k)` with scipy's default `not-a-knot` end
/// conditions (the third derivative is continuous at the second and the next-to-last knot), as
/// `scipy.interpolate.CubicSpline(x, y, extrapolate=False)`: outside `[x_0, x_{m-1}]` the value is NaN.
/// Two knots give the line through them, three the parabola (scipy's special cases).
///
/// Several series share the knots: `values` is `[m, n]` row-major (a column per series).
/// - Complexity: O(m·n) to build (one tridiagonal solve shared by the columns), O(log m + n) per point.
struct CubicSpline {
    let knots: [Double]
    let columns: Int
    /// y at the knots, `[m, n]`.
    private let y: [Double]
    /// Second derivatives at the knots, `[m, n]`.
    private let second: [Double]

    init(knots x: [Double], values y: [Double], columns n: Int) {
        precondition(x.count >= 1 && y.count == x.count * n)
        knots = x
        columns = n
        self.y = y
        let m = x.count
        var M = [Double](repeating: 0, count: m * n)
        if m == 3 {
            // not-a-knot with three knots: one parabola, constant second derivative
            let h0 = x[1] - x[0], h1 = x[2] - x[1]
            for j in 0..<n {
                let d0 = (y[n + j] - y[j]) / h0, d1 = (y[2 * n + j] - y[n + j]) / h1
                let c = 2 * (d1 - d0) / (h0 + h1)
                for k in 0..<3 { M[k * n + j] = c }
            }
        } else if m >= 4 {
            // Unknowns M_1 … M_{m-2} (tridiagonal), with M_0 and M_{m-1} eliminated through the
            // not-a-knot conditions h_1 M_0 − (h_0 + h_1) M_1 + h_0 M_2 = 0 (and its mirror).
            let h = (0..<(m - 1)).map { x[$0 + 1] - x[$0] }
            let size = m - 2
            var lower = [Double](repeating: 0, count: size), diagonal = lower, upper = lower
            for r in 0..<size {
                let i = r + 1
                lower[r] = h[i - 1]
                diagonal[r] = 2 * (h[i - 1] + h[i])
                upper[r] = h[i]
            }
            // first row: h_0 M_0 with M_0 = ((h_0 + h_1) M_1 − h_0 M_2) / h_1
            diagonal[0] += h[0] * (h[0] + h[1]) / h[1]
            upper[0] -= h[0] * h[0] / h[1]
            // last row: h_{m-2} M_{m-1} with M_{m-1} = ((h_{m-3} + h_{m-2}) M_{m-2} − h_{m-2} M_{m-3}) / h_{m-3}
            let a = h[m - 3], b = h[m - 2]
            diagonal[size - 1] += b * (a + b) / a
            lower[size - 1] -= b * b / a
            // Thomas algorithm, factorization shared by the columns
            var c = [Double](repeating: 0, count: size), denominators = c
            denominators[0] = diagonal[0]
            c[0] = upper[0] / denominators[0]
            for r in 1..<size {
                denominators[r] = diagonal[r] - lower[r] * c[r - 1]
                c[r] = upper[r] / denominators[r]
            }
            var d = [Double](repeating: 0, count: size)
            for j in 0..<n {
                for r in 0..<size {
                    let i = r + 1
                    let rhs = 6 * ((y[(i + 1) * n + j] - y[i * n + j]) / h[i] - (y[i * n + j] - y[(i - 1) * n + j]) / h[i - 1])
                    d[r] = (rhs - (r > 0 ? lower[r] * d[r - 1] : 0)) / denominators[r]
                }
                for r in stride(from: size - 2, through: 0, by: -1) { d[r] -= c[r] * d[r + 1] }
                for r in 0..<size { M[(r + 1) * n + j] = d[r] }
                M[j] = ((h[0] + h[1]) * d[0] - h[0] * (size > 1 ? d[1] : d[0])) / h[1]
                let last = d[size - 1], beforeLast = size > 1 ? d[size - 2] : d[size - 1]
                M[(m - 1) * n + j] = ((a + b) * last - b * beforeLast) / a
            }
        }
        second = M  // m = 2: the line (second derivatives 0); m = 1: a constant
    }

    /// The values of every column at `t` into `out` (`columns` values; NaN outside the knots).
    func evaluate(at t: Double, into out: UnsafeMutableBufferPointer<Double>) {
        let m = knots.count, n = columns
        guard t >= knots[0], t <= knots[m - 1] else {
            for j in 0..<n { out[j] = .nan }
            return
        }
        if m == 1 {
            for j in 0..<n { out[j] = y[j] }
            return
        }
        // the interval [x_i, x_{i+1}] holding t (the last one for t = x_{m-1})
        var low = 0, high = m - 1
        while high - low > 1 {
            let mid = (low + high) / 2
            if knots[mid] <= t { low = mid } else { high = mid }
        }
        let i = low
        let h = knots[i + 1] - knots[i]
        let a = (knots[i + 1] - t) / h, b = (t - knots[i]) / h
        for j in 0..<n {
            let y0 = y[i * n + j], y1 = y[(i + 1) * n + j], m0 = second[i * n + j], m1 = second[(i + 1) * n + j]
            out[j] = a * y0 + b * y1 + ((a * a * a - a) * m0 + (b * b * b - b) * m1) * h * h / 6
        }
    }
}
