import Foundation

/// A digital Butterworth filter in second-order sections, designed as `scipy.signal.butter(...,
/// output="sos")` designs it, and applied forward-backward as `scipy.signal.sosfiltfilt` (odd
/// padding, steady-state initial conditions): what `nilearn.signal.butterworth` does.
///
/// Design: analog prototype poles → band/high/low-pass transform at pre-warped frequencies →
/// bilinear transform → sections paired as scipy's `zpk2sos` (nearest pairing, worst poles last).
public struct Butterworth: Sendable, Equatable {
    /// `[sections][b0, b1, b2, a0, a1, a2]`.
    public let sos: [[Double]]

    public enum Kind: Sendable { case lowPass, highPass, bandPass }

    /// - Parameters:
    ///   - order: filter order N (nilearn: 5).
    ///   - low: lower edge as a fraction of Nyquist (high-pass cut-off), or nil.
    ///   - high: upper edge as a fraction of Nyquist (low-pass cut-off), or nil.
    public init(order: Int, low: Double?, high: Double?) {
        let kind: Kind = low != nil && high != nil ? .bandPass : (low != nil ? .highPass : .lowPass)
        let fs = 2.0
        func warp(_ w: Double) -> Double { 2 * fs * tan(Double.pi * w / fs) }
        // Analog prototype (buttap): poles on the left half of the unit circle.
        var p: [Complex] = (0..<order).map { i in
            let m = Double(-order + 1 + 2 * i)
            return -Complex.exp(i: Double.pi * m / Double(2 * order))
        }
        var z: [Complex] = []
        var k = 1.0
        switch kind {
        case .lowPass:
            let wo = warp(high!)
            p = p.map { $0 * wo }
            k = pow(wo, Double(order))
        case .highPass:
            let wo = warp(low!)
            var prodP = Complex(1, 0)
            for q in p { prodP = prodP * (-q) }
            k = (Complex(1, 0) / prodP).re
            p = p.map { Complex(wo, 0) / $0 }
            z = Array(repeating: Complex(0, 0), count: order)
        case .bandPass:
            let (w1, w2) = (warp(low!), warp(high!))
            let bw = w2 - w1
            let wo = (w1 * w2).squareRoot()
            let lp = p.map { $0 * (bw / 2) }
            p = lp.map { $0 + ($0 * $0 - Complex(wo * wo, 0)).sqrt() } + lp.map { $0 - ($0 * $0 - Complex(wo * wo, 0)).sqrt() }
            z = Array(repeating: Complex(0, 0), count: order)
            k = pow(bw, Double(order))
        }
        // Bilinear transform.
        let fs2 = 2 * fs
        var numerator = Complex(1, 0), denominator = Complex(1, 0)
        for q in z { numerator = numerator * (Complex(fs2, 0) - q) }
        for q in p { denominator = denominator * (Complex(fs2, 0) - q) }
        let degree = p.count - z.count
        var zz = z.map { (Complex(fs2, 0) + $0) / (Complex(fs2, 0) - $0) }
        zz += Array(repeating: Complex(-1, 0), count: degree)
        let pz = p.map { (Complex(fs2, 0) + $0) / (Complex(fs2, 0) - $0) }
        let kz = k * (numerator / denominator).re
        sos = Butterworth.zpk2sos(zeros: zz, poles: pz, gain: kz)
    }

    public init(sos: [[Double]]) { self.sos = sos }

    /// nilearn's cut-off handling: Hz → fraction of Nyquist, clipped into (0, 1).
    public static func nilearn(order: Int = 5, highPass: Double?, lowPass: Double?, tR: Double) -> Butterworth {
        let nyquist = 0.5 / tR
        func check(_ f: Double) -> Double {
            var wn = f / nyquist
            if wn >= 1 { wn = 1 - 10 * Double.ulpOfOne }
            if wn <= 0 { wn = 10 * Double.ulpOfOne }
            return wn
        }
        return Butterworth(order: order, low: highPass.map(check), high: lowPass.map(check))
    }

    /// scipy's `zpk2sos` with `pairing="nearest"` for a digital filter.
    static func zpk2sos(zeros: [Complex], poles: [Complex], gain: Double) -> [[Double]] {
        var z = zeros, p = poles
        let sections = (max(p.count, z.count) + 1) / 2
        if p.count % 2 == 1 { p.append(Complex(0, 0)); z.append(Complex(0, 0)) }
        while z.count < p.count { z.append(Complex(0, 0)) }
        while p.count < z.count { p.append(Complex(0, 0)) }
        z = cplxreal(z)
        p = cplxreal(p)
        var pSOS: [(Complex, Complex)] = []
        var zSOS: [(Complex, Complex)] = []
        for _ in 0..<sections {
            var best = 0
            for i in p.indices where abs(1 - p[i].abs) < abs(1 - p[best].abs) { best = i }
            let p1 = p.remove(at: best)
            var p2 = Complex(0, 0), z1 = Complex(0, 0), z2 = Complex(0, 0)
            let realPoles = p.filter { $0.isReal }.count
            if p1.isReal && realPoles == 0 {
                if let i = nearest(z, to: p1, which: .real) { z1 = z.remove(at: i) }
            } else if !p1.isReal && z.filter({ $0.isReal }).count == 1 && p.count == z.count - 1 + 0 && false {
                // Special case of scipy (one real pole and one real zero left) cannot occur here:
                // poles and zeros are padded to equal counts above.
            } else {
                if p1.isReal {
                    var j = -1
                    for i in p.indices where p[i].isReal {
                        if j < 0 || abs(p[i].abs - p1.abs) < abs(p[j].abs - p1.abs) { j = i }
                    }
                    p2 = p.remove(at: j)
                } else {
                    p2 = p1.conjugate
                }
                if !z.isEmpty {
                    let i = nearest(z, to: p1, which: .any)!
                    z1 = z.remove(at: i)
                    if !z1.isReal {
                        z2 = z1.conjugate
                    } else if let j = nearest(z, to: p1, which: .real) {
                        z2 = z.remove(at: j)
                    }
                }
            }
            pSOS.append((p1, p2))
            zSOS.append((z1, z2))
        }
        pSOS.reverse()
        zSOS.reverse()
        var out: [[Double]] = []
        for s in 0..<sections {
            let g = s == 0 ? gain : 1
            let (za, zb) = zSOS[s], (pa, pb) = pSOS[s]
            let b = [g, -g * (za + zb).re, g * (za * zb).re]
            let a = [1, -(pa + pb).re, (pa * pb).re]
            out.append(b + a)
        }
        return out
    }

    private enum Which { case any, real }

    private static func nearest(_ values: [Complex], to target: Complex, which: Which) -> Int? {
        var best: Int?
        for i in values.indices {
            if which == .real && !values[i].isReal { continue }
            if best == nil || (values[i] - target).abs < (values[best!] - target).abs { best = i }
        }
        return best
    }

    /// One element of each conjugate pair (positive imaginary part), sorted by real part, then the
    /// real values sorted (scipy `_cplxreal`).
    private static func cplxreal(_ values: [Complex]) -> [Complex] {
        let tol = 100 * Double.ulpOfOne
        var reals: [Complex] = []
        var complexes: [Complex] = []
        for v in values {
            if abs(v.im) <= tol * v.abs { reals.append(Complex(v.re, 0)) }
            else if v.im > 0 { complexes.append(v) }
        }
        reals.sort { $0.re < $1.re }
        complexes.sort { ($0.re, abs($0.im)) < ($1.re, abs($1.im)) }
        return complexes + reals
    }

    /// Steady-state initial conditions per section for a unit step (`scipy.signal.sosfilt_zi`).
    public var initialConditions: [[Double]] {
        var scale = 1.0
        var out: [[Double]] = []
        for s in sos {
            let (b0, b1, b2) = (s[0] / s[3], s[1] / s[3], s[2] / s[3])
            let (a1, a2) = (s[4] / s[3], s[5] / s[3])
            // (I - Aᵀ) zi = B with A the companion matrix of a.
            let m00 = 1 + a1, m01 = -1.0, m10 = a2, m11 = 1.0
            let r0 = b1 - a1 * b0, r1 = b2 - a2 * b0
            let det = m00 * m11 - m01 * m10
            let z0 = (r0 * m11 - m01 * r1) / det
            let z1 = (m00 * r1 - m10 * r0) / det
            out.append([scale * z0, scale * z1])
            scale *= (s[0] + s[1] + s[2]) / (s[3] + s[4] + s[5])
        }
        return out
    }

    /// The default `sosfiltfilt` padding: 3·(2·sections + 1 − trailing zero coefficients).
    public var padLength: Int {
        var taps = 2 * sos.count + 1
        taps -= min(sos.filter { $0[2] == 0 }.count, sos.filter { $0[5] == 0 }.count)
        return 3 * taps
    }

    /// Zero-phase filtering of one series in place (`sosfiltfilt(sos, x, padtype="odd")`).
    ///
    /// - Parameters:
    ///   - x: `count` samples at `stride` apart (a column of a row-major matrix).
    ///   - work: scratch of at least `count + 2·padLength` values.
    /// - Precondition: `count > padLength`.
    /// - Complexity: O(count · sections).
    public func filtfilt(_ x: UnsafeMutablePointer<Double>, count n: Int, stride: Int, work: UnsafeMutablePointer<Double>, zi: [[Double]]) {
        let pad = padLength
        let m = n + 2 * pad
        let first = x[0], last = x[(n - 1) * stride]
        for i in 0..<pad { work[i] = 2 * first - x[(pad - i) * stride] }
        for i in 0..<n { work[pad + i] = x[i * stride] }
        for i in 0..<pad { work[pad + n + i] = 2 * last - x[(n - 2 - i) * stride] }
        pass(work, m, zi: zi, scale: work[0], reverse: false)
        pass(work, m, zi: zi, scale: work[m - 1], reverse: true)
        for i in 0..<n { x[i * stride] = work[pad + i] }
    }

    /// One `sosfilt` pass (direct form II transposed), forward or backward, in place.
    @inline(__always)
    private func pass(_ y: UnsafeMutablePointer<Double>, _ m: Int, zi: [[Double]], scale: Double, reverse: Bool) {
        for (s, section) in sos.enumerated() {
            let b0 = section[0] / section[3], b1 = section[1] / section[3], b2 = section[2] / section[3]
            let a1 = section[4] / section[3], a2 = section[5] / section[3]
            var z0 = zi[s][0] * scale, z1 = zi[s][1] * scale
            if reverse {
                var i = m - 1
                while i >= 0 {
                    let xi = y[i]
                    let yi = b0 * xi + z0
                    z0 = b1 * xi - a1 * yi + z1
                    z1 = b2 * xi - a2 * yi
                    y[i] = yi
                    i -= 1
                }
            } else {
                for i in 0..<m {
                    let xi = y[i]
                    let yi = b0 * xi + z0
                    z0 = b1 * xi - a1 * yi + z1
                    z1 = b2 * xi - a2 * yi
                    y[i] = yi
                }
            }
        }
    }
}
