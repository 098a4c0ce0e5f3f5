/// The one notion of "slow BLAS kernels for this CPU", shared by the launcher, the `--verbose`
/// report and the tests.
///
/// Both a CPU and an OpenBLAS kernel family have a vector tier (the widest instruction set the
/// kernels use, or the CPU runs). Kernels are slow for a CPU when their tier is below the CPU's:
/// Debian's OpenBLAS 0.3.21 falls back to SSE3 ("Prescott") kernels on Xeons newer than it, while it
/// picks its AVX-512 ("Cooperlake", "SkylakeX") or AVX2 ("Zen", "Haswell") kernels by itself on
/// the CPUs it knows. Nothing here depends on the vendor: only on `/proc/cpuinfo` flags and on the
/// kernel family OpenBLAS reports.
public enum VectorTier: Int, Comparable, Sendable, CustomStringConvertible {
    case sse, avx, avx2, avx512

    public static func < (a: VectorTier, b: VectorTier) -> Bool { a.rawValue < b.rawValue }

    public var description: String {
        switch self {
        case .sse: "SSE"
        case .avx: "AVX"
        case .avx2: "AVX2"
        case .avx512: "AVX-512"
        }
    }

    /// The flags (`/proc/cpuinfo` names) a CPU needs for each tier.
    static let requiredFlags: [(tier: VectorTier, flags: [String])] = [
        (.avx512, ["avx512f", "avx512dq", "avx512cd", "avx512bw", "avx512vl"]),
        (.avx2, ["avx2", "fma"]),
        (.avx, ["avx"]),
    ]

    /// The widest tier a CPU with these flags runs.
    public init(cpuFlags: Set<String>) {
        self = Self.requiredFlags.first { $0.flags.allSatisfy(cpuFlags.contains) }?.tier ?? .sse
    }

    /// OpenBLAS kernel families (as `openblas_get_corename()` names them, any case) by the widest
    /// instructions their GEMM kernels use. Bulldozer to Excavator share OpenBLAS's AVX/FMA
    /// (Piledriver) kernels. A name not listed (older families, or unknown) counts as SSE.
    static let kernelFamilies: [VectorTier: Set<String>] = [
        .avx512: ["skylakex", "cooperlake", "sapphirerapids"],
        .avx2: ["haswell", "zen"],
        .avx: ["sandybridge", "bulldozer", "piledriver", "steamroller", "excavator"],
    ]

    /// The tier of an OpenBLAS kernel family.
    public init(kernelFamily name: String) {
        let key = name.lowercased()
        self = Self.kernelFamilies.first { $0.value.contains(key) }?.key ?? .sse
    }
}

/// OpenBLAS's kernels compared with the CPU they run on.
public struct BLASKernelCheck: Sendable, Equatable {
    /// The kernel family OpenBLAS uses (e.g. "Zen", "Cooperlake", "Prescott").
    public let kernel: String
    public let kernelTier: VectorTier
    public let cpuTier: VectorTier
    /// The `OPENBLAS_CORETYPE` that gives this CPU kernels of its own tier (nil for an SSE CPU).
    public let recommendedCoreType: String?

    public init(kernel: String, cpuFlags: Set<String>) {
        self.kernel = kernel
        kernelTier = VectorTier(kernelFamily: kernel)
        cpuTier = VectorTier(cpuFlags: cpuFlags)
        recommendedCoreType = Self.coreType(for: cpuTier, cpuFlags: cpuFlags)
    }

    /// True when the kernels use narrower vectors than the CPU has.
    public var isSlow: Bool { kernelTier < cpuTier }

    /// OpenBLAS's family for a tier; AVX-512 CPUs with bf16 get OpenBLAS's Cooper Lake kernels (a
    /// superset of Skylake-X's, as OpenBLAS picks them itself where it knows the CPU).
    static func coreType(for tier: VectorTier, cpuFlags: Set<String>) -> String? {
        switch tier {
        case .avx512: cpuFlags.contains("avx512_bf16") ? "Cooperlake" : "SkylakeX"
        case .avx2: "Haswell"
        case .avx: "Sandybridge"
        case .sse: nil
        }
    }
}
