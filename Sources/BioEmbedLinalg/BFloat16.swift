import BioEmbedCore
import CDNNL
import Foundation

/// bfloat16 GEMMs with float32 accumulation through oneDNN (`CDNNL`), and the conversions.
///
/// `support` is probed once per process: native only where oneDNN names a bfloat16 kernel for this
/// CPU (AVX-512 BF16, AMX); oneDNN's emulation on other CPUs is slower than float32 and is not used.
/// `BIOEMBED_BF16=emulate` runs the same numbers on any CPU (weights and activations rounded to
/// bfloat16, products summed in float32 by sgemm) for accuracy tests; it is not faster.
public enum BFloat16 {
    /// Whether bfloat16 GEMMs run here, and what oneDNN said.
    public struct Support: Sendable {
        public enum Mode: Sendable { case native, emulated, unavailable }
        public let mode: Mode
        public let detail: String
        public var usable: Bool { mode != .unavailable }
    }

    public static let support: Support = {
        if ProcessInfo.processInfo.environment["BIOEMBED_BF16"] == "emulate" {
            return Support(mode: .emulated, detail: "emulated (BIOEMBED_BF16=emulate: bfloat16 rounding, float32 sgemm)")
        }
        var text = [CChar](repeating: 0, count: 256)
        let native = bio_bf16_matmul_available(&text, text.count) == 1
        let detail = String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return Support(mode: native ? .native : .unavailable, detail: detail)
    }()

    /// float32 → bfloat16 (round to nearest even), `rows × cols` from `x` (row stride `ldx`) into a
    /// dense array.
    public static func convert(_ x: UnsafePointer<Float>, rows: Int, cols: Int, ldx: Int, into out: UnsafeMutablePointer<UInt16>) {
        bio_f32_to_bf16(x, rows, cols, ldx, out)
    }

    /// A dense float32 array as bfloat16.
    public static func converted(_ values: [Float]) -> [UInt16] {
        var out = [UInt16](repeating: 0, count: values.count)
        values.withUnsafeBufferPointer { v in
            out.withUnsafeMutableBufferPointer { o in
                if let source = v.baseAddress, let target = o.baseAddress { convert(source, rows: 1, cols: values.count, ldx: values.count, into: target) }
            }
        }
        return out
    }

    /// C[m,n] (+)= A[m,k] · Wᵀ with A float32 (row stride `lda`, rounded to bfloat16 here) and W the
    /// `[n, k]` bfloat16 weights of a Linear layer; float32 accumulation. O(m·n·k).
    public static func linear(
        _ a: UnsafePointer<Float>, lda: Int, weights w: UnsafePointer<UInt16>, m: Int, n: Int, k: Int,
        into c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool
    ) {
        guard m > 0, n > 0, k > 0 else { return }
        if support.mode == .native,
           bio_bf16_linear_f32(a, lda, w, m, n, k, c, ldc, accumulate ? 1 : 0, Int32(BLASRuntime.threads)) == 0 {
            return
        }
        let rounded = UnsafeMutablePointer<UInt16>.allocate(capacity: m * k)
        defer { rounded.deallocate() }
        convert(a, rows: m, cols: k, ldx: lda, into: rounded)
        // Emulation, or a shape oneDNN refused: the same products widened to float32 (exact) and
        // summed by sgemm.
        let wide = UnsafeMutablePointer<Float>.allocate(capacity: n * k + m * k)
        defer { wide.deallocate() }
        widen(w, count: n * k, into: wide)
        widen(rounded, count: m * k, into: wide + n * k)
        Float.gemm(transA: false, transB: true, m: m, n: n, k: k, alpha: 1, a: wide + n * k, lda: k, b: wide, ldb: k, beta: accumulate ? 1 : 0,
                   c: c, ldc: ldc)
    }

    /// bfloat16 → float32 (exact).
    static func widen(_ x: UnsafePointer<UInt16>, count: Int, into out: UnsafeMutablePointer<Float>) {
        let bits = UnsafeMutableRawPointer(out).assumingMemoryBound(to: UInt32.self)
        for i in 0..<count { bits[i] = UInt32(x[i]) << 16 }
    }
}
