import Foundation
import Testing
import _BioEmbedTestSupport

@testable import BioEmbedLinalg

/// Every routine is checked against a plain triple-loop (or definitional) reference in Float64.
@Suite(.serialized)
struct LinearAlgebraTests {
    func random(_ rows: Int, _ columns: Int, seed: UInt64) -> Matrix<Double> {
        var rng = TestSupport.SplitMix(seed: seed)
        return Matrix(rows: rows, columns: columns, storage: rng.doubles(rows * columns))
    }

    func naiveProduct(_ a: Matrix<Double>, _ b: Matrix<Double>) -> Matrix<Double> {
        var c = Matrix<Double>(rows: a.rows, columns: b.columns)
        for i in 0..<a.rows { for j in 0..<b.columns {
            var s = 0.0
            for k in 0..<a.columns { s += a[i, k] * b[k, j] }
            c[i, j] = s
        } }
        return c
    }

    @Test func gemmMatchesTheTripleLoopInBothPrecisionsAndTranspositions() throws {
        let a = random(37, 53, seed: 1), b = random(53, 29, seed: 2)
        let expected = naiveProduct(a, b)
        #expect(TestSupport.maxRelativeError(try LinearAlgebra.matmul(a, b).storage, expected.storage, floor: 1) < 1e-13)
        let viaTransposes = try LinearAlgebra.matmul(a.transposed, b.transposed, transposeA: true, transposeB: true)
        #expect(TestSupport.maxRelativeError(viaTransposes.storage, expected.storage, floor: 1) < 1e-13)
        let af = Matrix<Float>(rows: 37, columns: 53, storage: a.storage.map(Float.init))
        let bf = Matrix<Float>(rows: 53, columns: 29, storage: b.storage.map(Float.init))
        let cf = try LinearAlgebra.matmul(af, bf).storage.map(Double.init)
        #expect(TestSupport.maxRelativeError(cf, expected.storage, floor: 1) < 1e-5)
        #expect(throws: LinalgError.self) { try LinearAlgebra.matmul(a, a) }
    }

    /// The benchmark's shape, single precision, on whatever kernels this process got.
    @Test func largeSgemmMatchesAFloat64Reference() throws {
        let (m, k, n) = (512, 1024, 512)
        var rng = TestSupport.SplitMix(seed: 7)
        let a = Matrix<Float>(rows: m, columns: k, storage: (0..<(m * k)).map { _ in Float(rng.nextDouble()) })
        let b = Matrix<Float>(rows: k, columns: n, storage: (0..<(k * n)).map { _ in Float(rng.nextDouble()) })
        let c = try LinearAlgebra.matmul(a, b)
        // Spot-check 200 entries against a Float64 dot product.
        var worst = 0.0
        for probe in 0..<200 {
            let i = (probe * 37) % m, j = (probe * 91) % n
            var s = 0.0
            for p in 0..<k { s += Double(a[i, p]) * Double(b[p, j]) }
            worst = max(worst, abs(Double(c[i, j]) - s))
        }
        #expect(worst < 1e-3)  // |entries| ~ sqrt(1024)/3 ≈ 10; Float32 accumulation error ~1e-5 relative
    }

    @Test func gramAndMatvecMatchDefinitions() throws {
        let a = random(40, 12, seed: 3)
        let g = LinearAlgebra.gram(a)
        #expect(TestSupport.maxRelativeError(g.storage, naiveProduct(a.transposed, a).storage, floor: 1) < 1e-13)
        let outer = LinearAlgebra.gram(a, transpose: false)
        #expect(TestSupport.maxRelativeError(outer.storage, naiveProduct(a, a.transposed).storage, floor: 1) < 1e-13)
        let x = (0..<12).map { Double($0) - 5 }
        let y = try LinearAlgebra.matvec(a, x)
        let expected = naiveProduct(a, Matrix(rows: 12, columns: 1, storage: x)).storage
        #expect(TestSupport.maxRelativeError(y, expected, floor: 1) < 1e-13)
        let yt = try LinearAlgebra.matvec(a, (0..<40).map(Double.init), transpose: true)
        #expect(TestSupport.maxRelativeError(yt, naiveProduct(a.transposed, Matrix(rows: 40, columns: 1, storage: (0..<40).map(Double.init))).storage, floor: 1) < 1e-13)
    }

    @Test func symmetricEigenReconstructsTheMatrix() throws {
        let a = LinearAlgebra.gram(random(30, 20, seed: 4))  // 20×20 SPD
        let (values, vectors) = try LinearAlgebra.symmetricEigen(a)
        #expect(zip(values, values.dropFirst()).allSatisfy { $0 <= $1 })
        // A·v_j = λ_j·v_j for every column.
        let av = naiveProduct(a, vectors)
        var worst = 0.0
        for i in 0..<20 { for j in 0..<20 { worst = max(worst, abs(av[i, j] - values[j] * vectors[i, j])) } }
        #expect(worst < 1e-11)
    }

    @Test func choleskySolveAndQR() throws {
        let a = LinearAlgebra.gram(random(25, 10, seed: 5))
        let u = try LinearAlgebra.cholesky(a)
        #expect(TestSupport.maxRelativeError(naiveProduct(u.transposed, u).storage, a.storage, floor: 1) < 1e-12)
        let b = random(10, 3, seed: 6)
        let x = try LinearAlgebra.choleskySolve(a, b)
        #expect(TestSupport.maxRelativeError(naiveProduct(a, x).storage, b.storage, floor: 1) < 1e-10)
        let general = random(10, 10, seed: 8)
        let y = try LinearAlgebra.solve(general, b)
        #expect(TestSupport.maxRelativeError(naiveProduct(general, y).storage, b.storage, floor: 1) < 1e-10)
        var indefinite = Matrix<Double>.identity(3)
        indefinite[2, 2] = -1
        #expect(throws: LinalgError.notPositiveDefinite(operation: "cholesky", order: 3)) { try LinearAlgebra.cholesky(indefinite) }
        #expect(throws: LinalgError.singular(operation: "solve", pivot: 2)) {
            try LinearAlgebra.solve(Matrix<Double>(rows: 3, columns: 3, storage: [1, 2, 3, 2, 4, 6, 0, 0, 0]), Matrix(rows: 3, columns: 1, storage: [1, 2, 3]))
        }
        let tall = random(15, 6, seed: 9)
        let (q, r) = try LinearAlgebra.qr(tall)
        #expect(TestSupport.maxRelativeError(naiveProduct(q, r).storage, tall.storage, floor: 1) < 1e-13)
        let qtq = naiveProduct(q.transposed, q)
        #expect(TestSupport.maxRelativeError(qtq.storage, Matrix<Double>.identity(6).storage, floor: 1) < 1e-13)
        for i in 0..<6 { for j in 0..<i { #expect(r[i, j] == 0) } }
    }

    @Test func realFFTMatchesTheDefinitionAndInverts() throws {
        for n in [1, 2, 7, 16, 101, 300] {
            var rng = TestSupport.SplitMix(seed: UInt64(n))
            let x = rng.doubles(n)
            let spectrum = RealFFT.forward(x)
            #expect(spectrum.real.count == n / 2 + 1)
            var worst = 0.0
            for k in 0...(n / 2) {
                var re = 0.0, im = 0.0
                for t in 0..<n {
                    let angle = -2 * Double.pi * Double(k * t) / Double(n)
                    re += x[t] * cos(angle); im += x[t] * sin(angle)
                }
                worst = max(worst, abs(re - spectrum.real[k]), abs(im - spectrum.imaginary[k]))
            }
            #expect(worst < 1e-11, "n = \(n)")
            let back = RealFFT.inverse(spectrum, length: n)
            #expect(TestSupport.maxRelativeError(back, x, floor: 1) < 1e-13, "n = \(n)")
            let xf = x.map(Float.init)
            let backf = RealFFT.inverse(RealFFT.forward(xf), length: n)
            #expect(TestSupport.maxRelativeError(backf.map(Double.init), x, floor: 1) < 1e-5, "n = \(n)")
        }
    }

    @Test func slowKernelsAreJudgedByVectorTierNotVendor() {
        let avx512: Set = ["sse3", "avx", "avx2", "fma", "avx512f", "avx512dq", "avx512cd", "avx512bw", "avx512vl"]
        let avx2: Set = ["sse3", "avx", "avx2", "fma"]
        // OpenBLAS's own choices on CPUs it knows are fast, whatever their vendor.
        for (kernel, flags) in [("Cooperlake", avx512.union(["avx512_bf16"])), ("SkylakeX", avx512), ("Zen", avx2), ("Haswell", avx2)] {
            #expect(!BLASKernelCheck(kernel: kernel, cpuFlags: flags).isSlow, "\(kernel)")
        }
        // SSE kernels on a CPU with wider vectors are slow; the advice matches the CPU's tier.
        let xeon = BLASKernelCheck(kernel: "Prescott", cpuFlags: avx512)
        #expect(xeon.isSlow && xeon.recommendedCoreType == "SkylakeX")
        #expect(BLASKernelCheck(kernel: "Prescott", cpuFlags: avx512.union(["avx512_bf16"])).recommendedCoreType == "Cooperlake")
        #expect(BLASKernelCheck(kernel: "nehalem", cpuFlags: avx2).recommendedCoreType == "Haswell")
        #expect(BLASKernelCheck(kernel: "Zen", cpuFlags: avx512).isSlow)
        #expect(!BLASKernelCheck(kernel: "Prescott", cpuFlags: ["sse3"]).isSlow)
        #expect(BLASKernelCheck(kernel: "Prescott", cpuFlags: ["sse3"]).recommendedCoreType == nil)
        #expect(VectorTier(kernelFamily: "PILEDRIVER") == .avx && VectorTier(kernelFamily: "something new") == .sse)
        #expect(!BLASRuntime.coreName.isEmpty)
    }
}
