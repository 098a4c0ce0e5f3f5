import Foundation

/// A minimal double-precision complex number for filter design (not a general-purpose type).
struct Complex: Sendable, Equatable {
    var re: Double
    var im: Double
    init(_ re: Double, _ im: Double) { self.re = re; self.im = im }

    static func exp(i theta: Double) -> Complex { Complex(cos(theta), sin(theta)) }
    var abs: Double { hypot(re, im) }
    var conjugate: Complex { Complex(re, -im) }
    var isReal: Bool { im == 0 }
    static func + (a: Complex, b: Complex) -> Complex { Complex(a.re + b.re, a.im + b.im) }
    static func - (a: Complex, b: Complex) -> Complex { Complex(a.re - b.re, a.im - b.im) }
    static prefix func - (a: Complex) -> Complex { Complex(-a.re, -a.im) }
    static func * (a: Complex, b: Complex) -> Complex { Complex(a.re * b.re - a.im * b.im, a.re * b.im + a.im * b.re) }
    static func * (a: Complex, s: Double) -> Complex { Complex(a.re * s, a.im * s) }
    static func / (a: Complex, b: Complex) -> Complex {
        let d = b.re * b.re + b.im * b.im
        return Complex((a.re * b.re + a.im * b.im) / d, (a.im * b.re - a.re * b.im) / d)
    }
    /// Principal square root (numpy's branch).
    func sqrt() -> Complex {
        if re == 0 && im == 0 { return Complex(0, 0) }
        let m = abs
        let r = ((m + Swift.abs(re)) / 2).squareRoot()
        if re >= 0 { return Complex(r, im / (2 * r)) }
        return Complex(Swift.abs(im) / (2 * r), im >= 0 ? r : -r)
    }
}
