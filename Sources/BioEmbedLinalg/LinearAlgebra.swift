/// Dense linear algebra on row-major matrices, over BLAS and LAPACKE.
///
/// All routines work in `Float` or `Double`. Inputs are never modified; results are new matrices.
/// Symmetric routines read the upper triangle.
public enum LinearAlgebra {
    /// `C = op(A) · op(B)`, `op` = transpose when the flag is set.
    ///
    /// - Complexity: 2·m·n·k flops in one BLAS call; no per-element work outside BLAS.
    @inlinable
    public static func matmul<S: BLASScalar>(_ a: Matrix<S>, _ b: Matrix<S>, transposeA: Bool = false, transposeB: Bool = false) throws(LinalgError) -> Matrix<S> {
        let (m, k) = transposeA ? (a.columns, a.rows) : (a.rows, a.columns)
        let (kb, n) = transposeB ? (b.columns, b.rows) : (b.rows, b.columns)
        guard k == kb else {
            throw LinalgError.shapeMismatch(operation: "matmul", expected: "inner dimensions equal", found: "\(m)×\(k) · \(kb)×\(n)")
        }
        if m == 0 || n == 0 || k == 0 { return Matrix<S>(rows: m, columns: n) }
        // beta = 0: BLAS writes every entry of C, so it needs no zeroing first.
        return Matrix<S>(rows: m, columns: n) { pc in
            a.storage.withUnsafeBufferPointer { pa in
                b.storage.withUnsafeBufferPointer { pb in
                    S.gemm(transA: transposeA, transB: transposeB, m: m, n: n, k: k, alpha: 1,
                           a: pa.baseAddress!, lda: a.columns, b: pb.baseAddress!, ldb: b.columns, beta: 0, c: pc.baseAddress!, ldc: n)
                }
            }
        }
    }

    /// `C = Aᵀ·A` (`transpose = true`, the Gram matrix of the columns) or `A·Aᵀ`, full symmetric result.
    public static func gram<S: BLASScalar>(_ a: Matrix<S>, transpose: Bool = true) -> Matrix<S> {
        let (n, k) = transpose ? (a.columns, a.rows) : (a.rows, a.columns)
        var c = Matrix<S>(rows: n, columns: n)
        if n == 0 { return c }
        a.storage.withUnsafeBufferPointer { pa in
            c.storage.withUnsafeMutableBufferPointer { pc in
                S.syrk(trans: transpose, n: n, k: k, alpha: 1, a: pa.baseAddress!, lda: a.columns, beta: 0, c: pc.baseAddress!, ldc: n)
                for i in 0..<n { for j in 0..<i { pc[i * n + j] = pc[j * n + i] } }  // mirror the upper triangle
            }
        }
        return c
    }

    /// `y = op(A)·x`.
    public static func matvec<S: BLASScalar>(_ a: Matrix<S>, _ x: [S], transpose: Bool = false) throws(LinalgError) -> [S] {
        let (inner, outer) = transpose ? (a.rows, a.columns) : (a.columns, a.rows)
        guard x.count == inner else {
            throw LinalgError.shapeMismatch(operation: "matvec", expected: "a vector of \(inner)", found: "\(x.count)")
        }
        var y = [S](repeating: 0, count: outer)
        if outer == 0 || inner == 0 { return y }
        a.storage.withUnsafeBufferPointer { pa in
            x.withUnsafeBufferPointer { px in
                y.withUnsafeMutableBufferPointer { py in
                    S.gemv(trans: transpose, m: a.rows, n: a.columns, alpha: 1, a: pa.baseAddress!, lda: a.columns, x: px.baseAddress!, beta: 0, y: py.baseAddress!)
                }
            }
        }
        return y
    }

    /// Eigenvalues (ascending) and eigenvectors (columns of `vectors`) of a symmetric matrix.
    public static func symmetricEigen<S: BLASScalar>(_ a: Matrix<S>) throws(LinalgError) -> (values: [S], vectors: Matrix<S>) {
        try requireSquare(a, "symmetricEigen")
        var v = a
        var w = [S](repeating: 0, count: a.rows)
        if a.rows == 0 { return (w, v) }
        let info = v.storage.withUnsafeMutableBufferPointer { pv in
            w.withUnsafeMutableBufferPointer { pw in S.syevd(n: a.rows, a: pv.baseAddress!, w: pw.baseAddress!) }
        }
        guard info == 0 else { throw LinalgError.lapack(routine: "syevd", info: info) }
        return (w, v)
    }

    /// Upper Cholesky factor `U` with `A = Uᵀ·U` (the lower triangle of the result is zero).
    public static func cholesky<S: BLASScalar>(_ a: Matrix<S>) throws(LinalgError) -> Matrix<S> {
        try requireSquare(a, "cholesky")
        var u = a
        let n = a.rows
        if n == 0 { return u }
        let info = u.storage.withUnsafeMutableBufferPointer { S.potrf(n: n, a: $0.baseAddress!) }
        if info > 0 { throw LinalgError.notPositiveDefinite(operation: "cholesky", order: info) }
        guard info == 0 else { throw LinalgError.lapack(routine: "potrf", info: info) }
        for i in 0..<n { for j in 0..<i { u.storage[i * n + j] = 0 } }
        return u
    }

    /// Solves `A·X = B` for symmetric positive-definite `A` via Cholesky.
    public static func choleskySolve<S: BLASScalar>(_ a: Matrix<S>, _ b: Matrix<S>) throws(LinalgError) -> Matrix<S> {
        let u = try cholesky(a)
        guard b.rows == a.rows else {
            throw LinalgError.shapeMismatch(operation: "choleskySolve", expected: "B with \(a.rows) rows", found: "\(b.rows)")
        }
        var x = b
        if b.columns == 0 || a.rows == 0 { return x }
        let info = u.storage.withUnsafeBufferPointer { pu in
            x.storage.withUnsafeMutableBufferPointer { px in S.potrs(n: a.rows, nrhs: b.columns, a: pu.baseAddress!, b: px.baseAddress!) }
        }
        guard info == 0 else { throw LinalgError.lapack(routine: "potrs", info: info) }
        return x
    }

    /// Inverse of a symmetric positive-definite matrix (Cholesky `potrf` + `potri`: n³ flops, less
    /// than half of a Cholesky solve against the identity), returned symmetric.
    public static func symmetricPositiveDefiniteInverse<S: BLASScalar>(_ a: Matrix<S>) throws(LinalgError) -> Matrix<S> {
        try requireSquare(a, "inverse")
        var u = a
        let n = a.rows
        if n == 0 { return u }
        let info = u.storage.withUnsafeMutableBufferPointer { S.symmetricInverse(n: n, a: $0.baseAddress!) }
        if info.potrf > 0 { throw LinalgError.notPositiveDefinite(operation: "inverse", order: info.potrf) }
        guard info.potrf == 0 else { throw LinalgError.lapack(routine: "potrf", info: info.potrf) }
        guard info.potri == 0 else { throw LinalgError.lapack(routine: "potri", info: info.potri) }
        u.storage.withUnsafeMutableBufferPointer { p in
            for i in 0..<n { for j in 0..<i { p[i * n + j] = p[j * n + i] } }
        }
        return u
    }

    /// Solves `A·X = B` for a general square `A` (LU with partial pivoting).
    public static func solve<S: BLASScalar>(_ a: Matrix<S>, _ b: Matrix<S>) throws(LinalgError) -> Matrix<S> {
        try requireSquare(a, "solve")
        guard b.rows == a.rows else {
            throw LinalgError.shapeMismatch(operation: "solve", expected: "B with \(a.rows) rows", found: "\(b.rows)")
        }
        var lu = a
        var x = b
        if a.rows == 0 || b.columns == 0 { return x }
        var pivots = [Int32](repeating: 0, count: a.rows)
        let info = lu.storage.withUnsafeMutableBufferPointer { pa in
            x.storage.withUnsafeMutableBufferPointer { px in
                pivots.withUnsafeMutableBufferPointer { S.gesv(n: a.rows, nrhs: b.columns, a: pa.baseAddress!, ipiv: $0.baseAddress!, b: px.baseAddress!) }
            }
        }
        if info > 0 { throw LinalgError.singular(operation: "solve", pivot: info) }
        guard info == 0 else { throw LinalgError.lapack(routine: "gesv", info: info) }
        return x
    }

    /// Thin QR of an `m×n` matrix with `m ≥ n`: `Q` is `m×n` with orthonormal columns, `R` `n×n` upper triangular.
    public static func qr<S: BLASScalar>(_ a: Matrix<S>) throws(LinalgError) -> (q: Matrix<S>, r: Matrix<S>) {
        let (m, n) = (a.rows, a.columns)
        guard m >= n else { throw LinalgError.shapeMismatch(operation: "qr", expected: "rows ≥ columns", found: "\(m)×\(n)") }
        var work = a
        var tau = [S](repeating: 0, count: n)
        if n == 0 { return (Matrix(rows: m, columns: 0), Matrix(rows: 0, columns: 0)) }
        var info = work.storage.withUnsafeMutableBufferPointer { pa in
            tau.withUnsafeMutableBufferPointer { S.geqrf(m: m, n: n, a: pa.baseAddress!, tau: $0.baseAddress!) }
        }
        guard info == 0 else { throw LinalgError.lapack(routine: "geqrf", info: info) }
        var r = Matrix<S>(rows: n, columns: n)
        for i in 0..<n { for j in i..<n { r[i, j] = work[i, j] } }
        info = work.storage.withUnsafeMutableBufferPointer { pa in
            tau.withUnsafeBufferPointer { S.orgqr(m: m, n: n, k: n, a: pa.baseAddress!, tau: $0.baseAddress!) }
        }
        guard info == 0 else { throw LinalgError.lapack(routine: "orgqr", info: info) }
        return (work, r)
    }

    private static func requireSquare<S: BLASScalar>(_ a: Matrix<S>, _ operation: String) throws(LinalgError) {
        guard a.rows == a.columns else {
            throw LinalgError.shapeMismatch(operation: operation, expected: "a square matrix", found: "\(a.rows)×\(a.columns)")
        }
    }
}
