import CFFTW3

/// The FFTW entry points for one real type; planning calls are made under `FFTPlanCache`'s lock.
public protocol FFTScalar: BLASScalar {
    /// Plans an r2c transform of length `n` on scratch buffers; returns an opaque plan.
    static func planForward(_ n: Int) -> OpaquePointer
    static func planInverse(_ n: Int) -> OpaquePointer
    /// Runs a plan on new, FFTW-allocated arrays (new-array execution is thread-safe).
    static func executeForward(_ plan: OpaquePointer, _ input: UnsafeMutablePointer<Self>, _ output: UnsafeMutablePointer<Self>)
    static func executeInverse(_ plan: OpaquePointer, _ input: UnsafeMutablePointer<Self>, _ output: UnsafeMutablePointer<Self>)
    static func allocate(_ count: Int) -> UnsafeMutablePointer<Self>
    static func free(_ pointer: UnsafeMutablePointer<Self>)
}

extension Double: FFTScalar {
    public static func planForward(_ n: Int) -> OpaquePointer {
        let x = fftw_alloc_real(n)!, y = fftw_alloc_complex(n / 2 + 1)!
        defer { fftw_free(x); fftw_free(y) }
        return fftw_plan_dft_r2c_1d(Int32(n), x, y, FFTW_ESTIMATE)
    }
    public static func planInverse(_ n: Int) -> OpaquePointer {
        let x = fftw_alloc_complex(n / 2 + 1)!, y = fftw_alloc_real(n)!
        defer { fftw_free(x); fftw_free(y) }
        return fftw_plan_dft_c2r_1d(Int32(n), x, y, FFTW_ESTIMATE)
    }
    public static func executeForward(_ plan: OpaquePointer, _ input: UnsafeMutablePointer<Double>, _ output: UnsafeMutablePointer<Double>) {
        output.withMemoryRebound(to: fftw_complex.self, capacity: 1) { fftw_execute_dft_r2c(plan, input, $0) }
    }
    public static func executeInverse(_ plan: OpaquePointer, _ input: UnsafeMutablePointer<Double>, _ output: UnsafeMutablePointer<Double>) {
        input.withMemoryRebound(to: fftw_complex.self, capacity: 1) { fftw_execute_dft_c2r(plan, $0, output) }
    }
    public static func allocate(_ count: Int) -> UnsafeMutablePointer<Double> { fftw_alloc_real(count)! }
    public static func free(_ pointer: UnsafeMutablePointer<Double>) { fftw_free(pointer) }
}

extension Float: FFTScalar {
    public static func planForward(_ n: Int) -> OpaquePointer {
        let x = fftwf_alloc_real(n)!, y = fftwf_alloc_complex(n / 2 + 1)!
        defer { fftwf_free(x); fftwf_free(y) }
        return fftwf_plan_dft_r2c_1d(Int32(n), x, y, FFTW_ESTIMATE)
    }
    public static func planInverse(_ n: Int) -> OpaquePointer {
        let x = fftwf_alloc_complex(n / 2 + 1)!, y = fftwf_alloc_real(n)!
        defer { fftwf_free(x); fftwf_free(y) }
        return fftwf_plan_dft_c2r_1d(Int32(n), x, y, FFTW_ESTIMATE)
    }
    public static func executeForward(_ plan: OpaquePointer, _ input: UnsafeMutablePointer<Float>, _ output: UnsafeMutablePointer<Float>) {
        output.withMemoryRebound(to: fftwf_complex.self, capacity: 1) { fftwf_execute_dft_r2c(plan, input, $0) }
    }
    public static func executeInverse(_ plan: OpaquePointer, _ input: UnsafeMutablePointer<Float>, _ output: UnsafeMutablePointer<Float>) {
        input.withMemoryRebound(to: fftwf_complex.self, capacity: 1) { fftwf_execute_dft_c2r(plan, $0, output) }
    }
    public static func allocate(_ count: Int) -> UnsafeMutablePointer<Float> { fftwf_alloc_real(count)! }
    public static func free(_ pointer: UnsafeMutablePointer<Float>) { fftwf_free(pointer) }
}
