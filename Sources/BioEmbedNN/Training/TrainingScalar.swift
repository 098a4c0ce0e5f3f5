import BioEmbedLinalg
import Foundation

/// A real type the training code runs in: BLAS kernels plus the element-wise kernels of the
/// forward and backward passes. Float for training runs (the runtime's vectorised kernels,
/// `NNKernels`: exp relative error ≈ 2e-7, erf absolute error < 1.5e-7, well inside float32 training
/// tolerances); Double with libm `exp`/`erf` for the float64 gradient checks and fixture parity.
public protocol TrainingScalar: BLASScalar {
    /// y = GELU(x) over `count` values.
    static func gelu(_ x: UnsafePointer<Self>, count: Int, into y: UnsafeMutablePointer<Self>)
    /// dy ← dy ⊙ GELU'(x), GELU'(x) = ½(1 + erf(x/√2)) + x·φ(x).
    static func geluBackward(_ dy: UnsafeMutablePointer<Self>, x: UnsafePointer<Self>, count: Int)
    /// Softmax of one row in place; keys with `allowed[j] == 0` (and −∞ scores) get weight 0, an
    /// all-excluded row becomes all zeros.
    static func softmaxRow(_ row: UnsafeMutablePointer<Self>, count: Int, allowed: UnsafePointer<UInt8>?)
}

extension Float: TrainingScalar {
    public static func gelu(_ x: UnsafePointer<Float>, count: Int, into y: UnsafeMutablePointer<Float>) {
        NNKernels.gelu(x, count: count, into: y)
    }
    public static func geluBackward(_ dy: UnsafeMutablePointer<Float>, x: UnsafePointer<Float>, count: Int) {
        NNKernels.geluBackward(dy, x: x, count: count)
    }
    public static func softmaxRow(_ row: UnsafeMutablePointer<Float>, count: Int, allowed: UnsafePointer<UInt8>?) {
        NNKernels.softmaxRow(row, count: count, allowed: allowed)
    }
}

extension Double: TrainingScalar {
    public static func gelu(_ x: UnsafePointer<Double>, count: Int, into y: UnsafeMutablePointer<Double>) {
        for i in 0..<count { let v = x[i]; y[i] = 0.5 * v * (1 + Foundation.erf(v * 0.70710678118654752440)) }
    }
    public static func geluBackward(_ dy: UnsafeMutablePointer<Double>, x: UnsafePointer<Double>, count: Int) {
        for i in 0..<count {
            let v = x[i]
            dy[i] *= 0.5 * (1 + Foundation.erf(v * 0.70710678118654752440)) + v * 0.39894228040143267794 * Foundation.exp(-0.5 * v * v)
        }
    }
    public static func softmaxRow(_ row: UnsafeMutablePointer<Double>, count: Int, allowed: UnsafePointer<UInt8>?) {
        var maximum = -Double.infinity
        for j in 0..<count where (allowed == nil || allowed![j] != 0) && row[j] > maximum { maximum = row[j] }
        guard maximum > -Double.infinity else {
            for j in 0..<count { row[j] = 0 }
            return
        }
        var sum = 0.0
        for j in 0..<count {
            let e = (allowed == nil || allowed![j] != 0) && row[j] > -Double.infinity ? Foundation.exp(row[j] - maximum) : 0
            row[j] = e
            sum += e
        }
        let inv = 1 / sum
        for j in 0..<count { row[j] *= inv }
    }
}
