import BioEmbedLinalg
import CKernels
import Foundation

/// A real type the training code runs in: BLAS kernels plus the transcendental functions of the
/// forward and backward passes (libm `exp`/`erf` for Double). Float for training runs, Double for the
/// float64 gradient checks and fixture parity.
public protocol TrainingScalar: BLASScalar {
    static func exponential(_ x: Self) -> Self
    static func errorFunction(_ x: Self) -> Self
    /// y = GELU(x) over `count` values.
    static func gelu(_ x: UnsafePointer<Self>, count: Int, into y: UnsafeMutablePointer<Self>)
    /// dy ← dy ⊙ GELU'(x), GELU'(x) = ½(1 + erf(x/√2)) + x·φ(x).
    static func geluBackward(_ dy: UnsafeMutablePointer<Self>, x: UnsafePointer<Self>, count: Int)
    /// Softmax of one row in place (see `Backprop.softmaxRow`).
    static func softmaxRow(_ row: UnsafeMutablePointer<Self>, count: Int, allowed: UnsafePointer<UInt8>?)
}

/// Float uses the runtime's vectorisable kernels (`NNKernels.fastExp`, relative error ≈ 2e-7;
/// `NNKernels.fastErf`, absolute error < 2e-7), well inside float32 training tolerances.
extension Float: TrainingScalar {
    @inline(__always) public static func exponential(_ x: Float) -> Float { NNKernels.fastExp(x) }
    @inline(__always) public static func errorFunction(_ x: Float) -> Float { NNKernels.fastErf(x) }
    /// `CKernels` (AVX-512/AVX2 clones of the same approximations; one exponential serves erf's
    /// e^{−(x/√2)²} and φ's e^{−x²/2}).
    public static func gelu(_ x: UnsafePointer<Float>, count: Int, into y: UnsafeMutablePointer<Float>) { bio_gelu_f32(x, y, count) }
    public static func geluBackward(_ dy: UnsafeMutablePointer<Float>, x: UnsafePointer<Float>, count: Int) { bio_gelu_backward_f32(dy, x, count) }
    public static func softmaxRow(_ row: UnsafeMutablePointer<Float>, count: Int, allowed: UnsafePointer<UInt8>?) {
        bio_softmax_row_f32(row, count, allowed)  // −∞ scores give e = 0 there too
    }
}

extension Double: TrainingScalar {
    @inline(__always) public static func exponential(_ x: Double) -> Double { Foundation.exp(x) }
    @inline(__always) public static func errorFunction(_ x: Double) -> Double { Foundation.erf(x) }
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
        Backprop.softmaxRowReference(row, count: count, allowed: allowed)
    }
}
