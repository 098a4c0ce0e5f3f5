import CBLAS

/// Row-major BLAS/LAPACKE entry points for one real type: the only place the C calls appear.
/// Dimensions are `Int`; conversion to LAPACK's 32-bit integers happens here.
public protocol BLASScalar: BinaryFloatingPoint, Sendable {
    static func gemm(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Self,
        a: UnsafePointer<Self>, lda: Int, b: UnsafePointer<Self>, ldb: Int, beta: Self, c: UnsafeMutablePointer<Self>, ldc: Int)
    static func syrk(trans: Bool, n: Int, k: Int, alpha: Self, a: UnsafePointer<Self>, lda: Int, beta: Self, c: UnsafeMutablePointer<Self>, ldc: Int)
    static func gemv(trans: Bool, m: Int, n: Int, alpha: Self, a: UnsafePointer<Self>, lda: Int, x: UnsafePointer<Self>, beta: Self, y: UnsafeMutablePointer<Self>)
    /// Symmetric eigendecomposition (divide and conquer), upper triangle; returns LAPACK's info.
    static func syevd(n: Int, a: UnsafeMutablePointer<Self>, w: UnsafeMutablePointer<Self>) -> Int
    static func potrf(n: Int, a: UnsafeMutablePointer<Self>) -> Int
    static func potrs(n: Int, nrhs: Int, a: UnsafePointer<Self>, b: UnsafeMutablePointer<Self>) -> Int
    /// Cholesky factor, then inverse from it, of a symmetric positive-definite matrix in place: the
    /// upper triangle of the row-major storage (= LAPACK's column-major lower, so LAPACKE does not
    /// transpose) holds the inverse afterwards. Returns both routines' info (potri's is 0 when potrf failed).
    static func symmetricInverse(n: Int, a: UnsafeMutablePointer<Self>) -> (potrf: Int, potri: Int)
    static func gesv(n: Int, nrhs: Int, a: UnsafeMutablePointer<Self>, ipiv: UnsafeMutablePointer<Int32>, b: UnsafeMutablePointer<Self>) -> Int
    static func geqrf(m: Int, n: Int, a: UnsafeMutablePointer<Self>, tau: UnsafeMutablePointer<Self>) -> Int
    static func orgqr(m: Int, n: Int, k: Int, a: UnsafeMutablePointer<Self>, tau: UnsafePointer<Self>) -> Int
}

@inline(__always) private func op(_ t: Bool) -> CBLAS_TRANSPOSE { t ? CblasTrans : CblasNoTrans }
private let upper = CChar(UInt8(ascii: "U"))
private let lower = CChar(UInt8(ascii: "L"))
private let vectors = CChar(UInt8(ascii: "V"))

extension Float: BLASScalar {
    public static func gemm(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
        a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int, beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        cblas_sgemm(CblasRowMajor, op(transA), op(transB), Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }
    public static func syrk(trans: Bool, n: Int, k: Int, alpha: Float, a: UnsafePointer<Float>, lda: Int, beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
        cblas_ssyrk(CblasRowMajor, CblasUpper, op(trans), Int32(n), Int32(k), alpha, a, Int32(lda), beta, c, Int32(ldc))
    }
    public static func gemv(trans: Bool, m: Int, n: Int, alpha: Float, a: UnsafePointer<Float>, lda: Int, x: UnsafePointer<Float>, beta: Float, y: UnsafeMutablePointer<Float>) {
        cblas_sgemv(CblasRowMajor, op(trans), Int32(m), Int32(n), alpha, a, Int32(lda), x, 1, beta, y, 1)
    }
    public static func syevd(n: Int, a: UnsafeMutablePointer<Float>, w: UnsafeMutablePointer<Float>) -> Int {
        Int(LAPACKE_ssyevd(LAPACK_ROW_MAJOR, vectors, upper, Int32(n), a, Int32(n), w))
    }
    public static func potrf(n: Int, a: UnsafeMutablePointer<Float>) -> Int {
        Int(LAPACKE_spotrf(LAPACK_ROW_MAJOR, upper, Int32(n), a, Int32(n)))
    }
    public static func potrs(n: Int, nrhs: Int, a: UnsafePointer<Float>, b: UnsafeMutablePointer<Float>) -> Int {
        Int(LAPACKE_spotrs(LAPACK_ROW_MAJOR, upper, Int32(n), Int32(nrhs), a, Int32(n), b, Int32(nrhs)))
    }
    public static func symmetricInverse(n: Int, a: UnsafeMutablePointer<Float>) -> (potrf: Int, potri: Int) {
        let info = Int(LAPACKE_spotrf(LAPACK_COL_MAJOR, lower, Int32(n), a, Int32(n)))
        if info != 0 { return (info, 0) }
        return (0, Int(LAPACKE_spotri(LAPACK_COL_MAJOR, lower, Int32(n), a, Int32(n))))
    }
    public static func gesv(n: Int, nrhs: Int, a: UnsafeMutablePointer<Float>, ipiv: UnsafeMutablePointer<Int32>, b: UnsafeMutablePointer<Float>) -> Int {
        Int(LAPACKE_sgesv(LAPACK_ROW_MAJOR, Int32(n), Int32(nrhs), a, Int32(n), ipiv, b, Int32(nrhs)))
    }
    public static func geqrf(m: Int, n: Int, a: UnsafeMutablePointer<Float>, tau: UnsafeMutablePointer<Float>) -> Int {
        Int(LAPACKE_sgeqrf(LAPACK_ROW_MAJOR, Int32(m), Int32(n), a, Int32(n), tau))
    }
    public static func orgqr(m: Int, n: Int, k: Int, a: UnsafeMutablePointer<Float>, tau: UnsafePointer<Float>) -> Int {
        Int(LAPACKE_sorgqr(LAPACK_ROW_MAJOR, Int32(m), Int32(n), Int32(k), a, Int32(n), tau))
    }
}

extension Double: BLASScalar {
    public static func gemm(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Double,
        a: UnsafePointer<Double>, lda: Int, b: UnsafePointer<Double>, ldb: Int, beta: Double, c: UnsafeMutablePointer<Double>, ldc: Int
    ) {
        cblas_dgemm(CblasRowMajor, op(transA), op(transB), Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }
    public static func syrk(trans: Bool, n: Int, k: Int, alpha: Double, a: UnsafePointer<Double>, lda: Int, beta: Double, c: UnsafeMutablePointer<Double>, ldc: Int) {
        cblas_dsyrk(CblasRowMajor, CblasUpper, op(trans), Int32(n), Int32(k), alpha, a, Int32(lda), beta, c, Int32(ldc))
    }
    public static func gemv(trans: Bool, m: Int, n: Int, alpha: Double, a: UnsafePointer<Double>, lda: Int, x: UnsafePointer<Double>, beta: Double, y: UnsafeMutablePointer<Double>) {
        cblas_dgemv(CblasRowMajor, op(trans), Int32(m), Int32(n), alpha, a, Int32(lda), x, 1, beta, y, 1)
    }
    public static func syevd(n: Int, a: UnsafeMutablePointer<Double>, w: UnsafeMutablePointer<Double>) -> Int {
        Int(LAPACKE_dsyevd(LAPACK_ROW_MAJOR, vectors, upper, Int32(n), a, Int32(n), w))
    }
    public static func potrf(n: Int, a: UnsafeMutablePointer<Double>) -> Int {
        Int(LAPACKE_dpotrf(LAPACK_ROW_MAJOR, upper, Int32(n), a, Int32(n)))
    }
    public static func potrs(n: Int, nrhs: Int, a: UnsafePointer<Double>, b: UnsafeMutablePointer<Double>) -> Int {
        Int(LAPACKE_dpotrs(LAPACK_ROW_MAJOR, upper, Int32(n), Int32(nrhs), a, Int32(n), b, Int32(nrhs)))
    }
    public static func symmetricInverse(n: Int, a: UnsafeMutablePointer<Double>) -> (potrf: Int, potri: Int) {
        let info = Int(LAPACKE_dpotrf(LAPACK_COL_MAJOR, lower, Int32(n), a, Int32(n)))
        if info != 0 { return (info, 0) }
        return (0, Int(LAPACKE_dpotri(LAPACK_COL_MAJOR, lower, Int32(n), a, Int32(n))))
    }
    public static func gesv(n: Int, nrhs: Int, a: UnsafeMutablePointer<Double>, ipiv: UnsafeMutablePointer<Int32>, b: UnsafeMutablePointer<Double>) -> Int {
        Int(LAPACKE_dgesv(LAPACK_ROW_MAJOR, Int32(n), Int32(nrhs), a, Int32(n), ipiv, b, Int32(nrhs)))
    }
    public static func geqrf(m: Int, n: Int, a: UnsafeMutablePointer<Double>, tau: UnsafeMutablePointer<Double>) -> Int {
        Int(LAPACKE_dgeqrf(LAPACK_ROW_MAJOR, Int32(m), Int32(n), a, Int32(n), tau))
    }
    public static func orgqr(m: Int, n: Int, k: Int, a: UnsafeMutablePointer<Double>, tau: UnsafePointer<Double>) -> Int {
        Int(LAPACKE_dorgqr(LAPACK_ROW_MAJOR, Int32(m), Int32(n), Int32(k), a, Int32(n), tau))
    }
}

/// OpenBLAS runtime controls.
enum OpenBLASCalls {
    static func coreName() -> String {
        guard let name = openblas_get_corename() else { return "unknown" }
        return String(cString: name)
    }
    static func setThreads(_ n: Int) { openblas_set_num_threads(Int32(n)) }
    static func threads() -> Int { Int(openblas_get_num_threads()) }
    /// Ends OpenBLAS's worker threads (a later threaded call starts them again).
    static func stopThreads() { _ = blas_thread_shutdown_() }
    /// Reads OpenBLAS's environment variables again (they are read once when the library loads).
    static func rereadEnvironment() { openblas_read_env() }
    /// The thread timeout OpenBLAS read (log2 of the spin cycles; 0 means its built-in 2²⁸).
    static func threadTimeout() -> Int { Int(openblas_thread_timeout()) }
}
