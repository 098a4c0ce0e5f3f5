/// 3D-MolT5 encoder hyper-parameters from the HF T5 `config.json` plus the 3D-MolT5 keys
/// (`fp_bits`, `emb_setting`, `bom_id`, `eom_id`). Every size comes from here.
public struct MolT5Config: Sendable {
    public enum FeedForward: String, Sendable { case gatedGelu = "gated-gelu", relu }

    public var dModel: Int
    public var dKV: Int
    public var heads: Int
    public var dFF: Int
    public var layers: Int
    public var vocabSize: Int
    public var buckets: Int
    public var maxDistance: Int
    public var eps: Float
    public var feedForward: FeedForward
    /// Rows of the fp embedding minus one (row 0 = "no 3D token").
    public var fpBits: Int
    public var bomID: Int
    public var eomID: Int
    public var padID: Int
    /// Longest input (tokens) accepted; longer molecules fail as items.
    public var maxLength: Int

    public var inner: Int { heads * dKV }

    public init(_ file: ModelConfigFile) throws(NNError) {
        dModel = try file.positiveInt("d_model")
        dKV = try file.positiveInt("d_kv")
        heads = try file.positiveInt("num_heads")
        dFF = try file.positiveInt("d_ff")
        layers = try file.positiveInt("num_layers")
        vocabSize = try file.positiveInt("vocab_size")
        buckets = try file.positiveInt("relative_attention_num_buckets", default: 32)
        maxDistance = try file.positiveInt("relative_attention_max_distance", default: 128)
        eps = Float(try file.double("layer_norm_epsilon", default: 1e-6, within: ModelConfigFile.epsilonRange))
        let projection = try file.string("feed_forward_proj", default: "gated-gelu")
        guard let feedForward = FeedForward(rawValue: projection) else {
            throw NNError.invalidConfig(file: file.path, key: "feed_forward_proj", expected: "gated-gelu or relu", found: projection)
        }
        self.feedForward = feedForward
        let setting = try file.string("emb_setting", default: "sum")
        guard setting == "sum" else { throw NNError.invalidConfig(file: file.path, key: "emb_setting", expected: "sum", found: setting) }
        fpBits = try file.positiveInt("fp_bits", default: 4096)
        bomID = try file.int("bom_id", default: 35045, within: 0...(vocabSize - 1))
        eomID = try file.int("eom_id", default: 35044, within: 0...(vocabSize - 1))
        padID = try file.int("pad_token_id", default: 0, within: 0...(vocabSize - 1))
        maxLength = try file.positiveInt("max_length_tokens", default: 4096)
    }
}
