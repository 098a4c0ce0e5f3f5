import BioEmbedLinalg
import Foundation

/// A real type the training code runs in: BLAS kernels plus the transcendental functions of the
/// forward and backward passes (libm `exp`/`erf` for Double). Float for training runs, Double for the
/// float64 gradient checks and fixture parity.
public protocol TrainingScalar: BLASScalar {
    static func exponential(_ x: Self) -> Self
    static func errorFunction(_ x: Self) -> Self
}

/// Float uses the runtime's vectorisable kernels (`NNKernels.fastExp`, relative error ≈ 2e-7;
/// `NNKernels.fastErf`, absolute error < 2e-7), well inside float32 training tolerances.
extension Float: TrainingScalar {
    @inline(__always) public static func exponential(_ x: Float) -> Float { NNKernels.fastExp(x) }
    @inline(__always) public static func errorFunction(_ x: Float) -> Float { NNKernels.fastErf(x) }
}

extension Double: TrainingScalar {
    @inline(__always) public static func exponential(_ x: Double) -> Double { Foundation.exp(x) }
    @inline(__always) public static func errorFunction(_ x: Double) -> Double { Foundation.erf(x) }
}
