import BioEmbedCore
import BioEmbedLinalg
import Synchronization

/// Parameters shared by the three encoder stages (`encode_pst`, `encode_molt5`,
/// `encode_brainmae`); keys equal the CLI flags of `bioembed encode <model>`.
public struct EncoderConfiguration: StageConfiguration {
    /// The safetensors weights (converted with `scripts/convert_checkpoint.py`).
    public var weights: String
    /// The model's `config.json`.
    public var config: String
    /// Store per-token (per-residue, per-segment) embeddings too.
    public var perToken: Bool
    /// Pooling: pst `mean`; molt5 `selfies` (default) or `nonpad`; brainmae `cls` (default) or `mean`.
    public var pooling: String?
    /// Tokens per packed batch (items are sorted by length, then packed up to this many tokens).
    public var batchTokens: Int
    /// PST: what happens to a chain longer than the model's `max_residues` (see `LongChainPolicy`).
    public var longChains: LongChainPolicy
    /// PST, `windows`: residues shared by consecutive windows.
    public var windowOverlap: Int
    /// GEMM precision of the Linear layers (`bf16`: bfloat16 weights and products, float32 accumulation,
    /// on CPUs with AVX-512 BF16; float32 elsewhere, said on stderr and in the `precision` attribute).
    public var precision: Precision

    public static let parameters: [StageParameter] = {
        let d = EncoderConfiguration(weights: "", config: "")
        return [
            StageParameter("weights", .file, help: "Model weights (safetensors; scripts/convert_checkpoint.py converts a PyTorch checkpoint). Required."),
            StageParameter("config", .file, help: "The model's config.json. Required."),
            StageParameter("per_token", .boolean, default: d.perToken, help: "Store per-token embeddings (per residue, per token, per segment)."),
            StageParameter("pooling", .text, help: "Pooling: pst mean; molt5 selfies (default) or nonpad; brainmae cls (default) or mean."),
            StageParameter("batch_tokens", .integer, default: d.batchTokens, unit: "tokens", help: "Tokens per packed batch (items sorted by length, packed up to this many; at least 1)."),
            .choice("long_chains", LongChainPolicy.self, default: d.longChains, help: "pst: chains longer than the model's max_residues: fail (an item error), truncate, or windows (overlapping, per-residue outputs averaged)."),
            StageParameter("window_overlap", .integer, default: d.windowOverlap, unit: "residues", help: "pst, long_chains windows: residues shared by consecutive windows."),
            .choice("precision", Precision.self, default: d.precision, help: "GEMM precision of the Linear layers: fp32, or bf16 (bfloat16 weights and products with float32 accumulation, on CPUs with AVX-512 BF16 or AMX; elsewhere float32, said on stderr and in the 'precision' attribute)."),
        ]
    }()

    enum CodingKeys: String, CodingKey, CaseIterable {
        case weights, config
        case perToken = "per_token"
        case pooling
        case batchTokens = "batch_tokens"
        case longChains = "long_chains", windowOverlap = "window_overlap"
        case precision
    }

    /// The defaults, declared here once (the table, the pipeline decoder and the CLI read them).
    public init(weights: String, config: String, perToken: Bool = true, pooling: String? = nil, batchTokens: Int = 4096,
                longChains: LongChainPolicy = .fail, windowOverlap: Int = 256, precision: Precision = .fp32) {
        self.precision = precision
        self.longChains = longChains
        self.windowOverlap = windowOverlap
        self.weights = weights
        self.config = config
        self.perToken = perToken
        self.pooling = pooling
        self.batchTokens = batchTokens
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        weights = try c.decode(String.self, forKey: .weights)
        config = try c.decode(String.self, forKey: .config)
        let d = EncoderConfiguration(weights: weights, config: config)
        perToken = try c.decodeIfPresent(Bool.self, forKey: .perToken) ?? d.perToken
        pooling = try c.decodeIfPresent(String.self, forKey: .pooling)
        batchTokens = try c.decodeIfPresent(Int.self, forKey: .batchTokens) ?? d.batchTokens
        longChains = try c.decodeIfPresent(LongChainPolicy.self, forKey: .longChains) ?? d.longChains
        windowOverlap = try c.decodeIfPresent(Int.self, forKey: .windowOverlap) ?? d.windowOverlap
        precision = try c.decodeIfPresent(Precision.self, forKey: .precision) ?? d.precision
        try validate()
    }

    /// The one check of the values that need no model, for pipeline files and the CLI alike.
    public func validate() throws(CoreError) {
        guard batchTokens >= 1 else { throw .invalidValue(name: "batch_tokens", expected: "a positive number of tokens", found: "\(batchTokens)") }
        guard windowOverlap >= 0 else { throw .invalidValue(name: "window_overlap", expected: "0 or more residues", found: "\(windowOverlap)") }
    }

    /// The precision the Linear layers run in here, and its description for the `precision`
    /// attribute: `bf16` needs `BFloat16.support`; without it the encoder runs in float32 and says
    /// why, once per process on stderr.
    ///
    /// - Parameter keptInFP32: layers the model keeps in float32 under bf16, for the description.
    func effectivePrecision(stage: String, keptInFP32: String? = nil) -> (precision: Precision, description: String) {
        guard precision == .bf16 else { return (.fp32, Precision.fp32.rawValue) }
        let support = BFloat16.support
        guard support.usable else {
            if Self.fallbackSaid.withLock({ said in defer { said = true }; return !said }) {
                Diagnostics.warning("\(stage): --precision bf16: \(support.detail); running in float32")
            }
            return (.fp32, "fp32 (bf16 requested: \(support.detail))")
        }
        let except = keptInFP32.map { " except \($0), kept in float32" } ?? ""
        return (.bf16, "bf16 (Linear weights and GEMMs in bfloat16\(except), float32 accumulation; \(support.detail))")
    }

    private static let fallbackSaid = Mutex(false)

    /// The weights file, opened for the precision this CPU allows (`effectivePrecision`), and how the
    /// `precision` attribute describes it.
    func openWeights(stage: String, keptInFP32: String? = nil) throws(NNError) -> (store: WeightStore, precision: String) {
        let precision = effectivePrecision(stage: stage, keptInFP32: keptInFP32)
        return (try WeightStore(path: weights, gemmPrecision: precision.precision), precision.description)
    }

    /// The residue ranges a chain of `count` residues is encoded in, for a model that takes at most
    /// `maximum`: the whole chain when it fits; else nil (`fail`), its first `maximum` residues
    /// (`truncate`), or windows of `maximum` residues starting every `maximum − window_overlap`, the
    /// last one ending at the chain's end (`windows`).
    func windows(count: Int, maximum: Int) throws(NNError) -> [Range<Int>]? {
        if count <= maximum { return [0..<count] }
        switch longChains {
        case .fail: return nil
        case .truncate: return [0..<maximum]
        case .windows:
            guard windowOverlap >= 0, windowOverlap < maximum else {
                throw NNError.invalidConfig(file: "--window-overlap", key: "window_overlap", expected: "0 to \(maximum - 1) (below max_residues)", found: "\(windowOverlap)")
            }
            var ranges: [Range<Int>] = []
            var start = 0
            while true {
                if start + maximum >= count {
                    ranges.append(max(0, count - maximum)..<count)
                    return ranges
                }
                ranges.append(start..<(start + maximum))
                start += maximum - windowOverlap
            }
        }
    }

    /// How the policy reads in the embedding attributes.
    func longChainDescription(maximum: Int) -> String {
        switch longChains {
        case .fail: return "fail (chains longer than \(maximum) residues are item errors)"
        case .truncate: return "truncate (the first \(maximum) residues of longer chains)"
        case .windows: return "windows of \(maximum) residues overlapping by \(windowOverlap); per-residue outputs averaged over the windows holding them"
        }
    }


    /// The pooling name, checked against the model's choices (first = default).
    func pooling(choices: [String]) throws(NNError) -> String {
        let value = pooling ?? choices[0]
        guard choices.contains(value) else {
            throw NNError.invalidConfig(file: "--pooling", key: "pooling", expected: choices.joined(separator: " or "), found: value)
        }
        return value
    }

    /// Groups item indices (sorted by length) into batches of at most `batchTokens` tokens.
    func batches(lengths: [Int], items: [Int]) -> [[Int]] {
        let sorted = items.sorted { (lengths[$0], $0) < (lengths[$1], $1) }
        var result: [[Int]] = []
        var current: [Int] = []
        var tokens = 0
        for i in sorted {
            if !current.isEmpty && tokens + lengths[i] > max(1, batchTokens) {
                result.append(current)
                current = []
                tokens = 0
            }
            current.append(i)
            tokens += lengths[i]
        }
        if !current.isEmpty { result.append(current) }
        return result
    }
}

/// What an encoder does with a chain longer than its trained context (PST: ESM-2's `max_residues`).
public enum LongChainPolicy: String, Sendable, Codable, CaseIterable {
    /// The chain is an item error that says so (default: never a silent cut).
    case fail
    /// Only the first `max_residues` residues are encoded; `per_token` holds those.
    case truncate
    /// Overlapping windows, each encoded on its own (its own radius graph); every residue's output
    /// is the mean over the windows that hold it, as ESM users embed long proteins.
    case windows
}
