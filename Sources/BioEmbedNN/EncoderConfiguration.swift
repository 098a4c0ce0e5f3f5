import BioEmbedCore

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

    public static let parameterNames = ["weights", "config", "per_token", "pooling", "batch_tokens"]
    public static let pathParameterNames = ["weights", "config"]

    enum CodingKeys: String, CodingKey {
        case weights, config, pooling
        case perToken = "per_token"
        case batchTokens = "batch_tokens"
    }

    public init(weights: String, config: String, perToken: Bool = true, pooling: String? = nil, batchTokens: Int = 4096) {
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
        perToken = try c.decodeIfPresent(Bool.self, forKey: .perToken) ?? true
        pooling = try c.decodeIfPresent(String.self, forKey: .pooling)
        batchTokens = try c.decodeIfPresent(Int.self, forKey: .batchTokens) ?? 4096
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
