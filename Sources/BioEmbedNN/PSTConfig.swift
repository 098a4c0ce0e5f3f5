/// PST hyper-parameters, read from a `config.json` whose keys are those of the converted
/// checkpoint (`embed_dim`, `num_heads`, `num_layers`, `ffn_dim`, `k_hop`, `gnn_type`, ...; see
/// `scripts/convert_checkpoint.py`). Every size comes from here: t6/t12/t30/t33 and the `_so`
/// variants differ only in these numbers.
public struct PSTConfig: Sendable {
    public var embedDim: Int
    public var heads: Int
    public var layers: Int
    public var ffnDim: Int
    public var kHop: Int
    public var tokenDropout: Bool
    public var layerNormEps: Float
    public var batchNormEps: Float
    public var rotaryBase: Float
    public var vocabSize: Int
    public var clsIndex: Int
    public var eosIndex: Int
    public var unkIndex: Int
    public var maskIndex: Int
    /// Token strings in id order (ESM-1b by default).
    public var alphabet: [String]
    /// Cα radius of the structure graph (Å).
    public var radius: Float
    /// Longest chain (residues) accepted; longer ones fail as items.
    public var maxResidues: Int

    public static let esm1bAlphabet = [
        "<cls>", "<pad>", "<eos>", "<unk>", "L", "A", "G", "V", "S", "E", "R", "T", "I", "D", "P", "K", "Q", "N", "F", "Y", "M",
        "H", "W", "C", "X", "B", "U", "Z", "O", ".", "-", "<null_1>", "<mask>",
    ]

    public var headDim: Int { embedDim / heads }

    public init(_ file: ModelConfigFile) throws(NNError) {
        embedDim = try file.positiveInt("embed_dim")
        heads = try file.positiveInt("num_heads")
        try file.requireDivisible(embedDim, "embed_dim", by: heads, "num_heads")
        guard (embedDim / heads) % 2 == 0 else {
            throw NNError.invalidConfig(file: file.path, key: "num_heads", expected: "an even head dimension for rotary embeddings", found: "\(embedDim / heads)")
        }
        layers = try file.positiveInt("num_layers")
        ffnDim = try file.positiveInt("ffn_dim", default: 4 * embedDim)
        kHop = try file.positiveInt("k_hop", default: 2)
        let gnn = try file.string("gnn_type", default: "gin")
        guard gnn == "gin" else { throw NNError.invalidConfig(file: file.path, key: "gnn_type", expected: "gin (the only extractor of released PST models)", found: gnn) }
        if try file.bool("use_edge_attr", default: false) {
            throw NNError.invalidConfig(file: file.path, key: "use_edge_attr", expected: "false (edge features are not supported)", found: "true")
        }
        tokenDropout = try file.bool("token_dropout", default: true)
        layerNormEps = Float(try file.double("layer_norm_eps", default: 1e-5, within: ModelConfigFile.epsilonRange))
        batchNormEps = Float(try file.double("batch_norm_eps", default: 1e-5, within: ModelConfigFile.epsilonRange))
        rotaryBase = Float(try file.double("rotary_base", default: 10000, within: 1...1e9))
        alphabet = (file.values["alphabet_tokens"] as? [String]) ?? Self.esm1bAlphabet
        vocabSize = try file.positiveInt("vocab_size", default: alphabet.count)
        guard vocabSize == alphabet.count else {
            throw NNError.invalidConfig(file: file.path, key: "vocab_size", expected: "\(alphabet.count) (the alphabet_tokens)", found: "\(vocabSize)")
        }
        clsIndex = try file.int("cls_idx", default: 0, within: 0...(vocabSize - 1))
        eosIndex = try file.int("eos_idx", default: 2, within: 0...(vocabSize - 1))
        unkIndex = try file.int("unk_idx", default: 3, within: 0...(vocabSize - 1))
        maskIndex = try file.int("mask_idx", default: 32, within: 0...(vocabSize - 1))
        let graph = file.values["graph"] as? [String: Any]
        radius = Float(try file.double("radius_angstrom", default: try file.double("graph_eps", default: 8, within: 0...1000), in: graph ?? file.values, within: 0...1000))
        maxResidues = try file.positiveInt("max_residues", default: 1022)
    }

    /// Token id of each residue letter; unknown characters map to `<unk>`.
    public func tokenTable() -> [Character: Int32] {
        var table: [Character: Int32] = [:]
        for (i, token) in alphabet.enumerated() where token.count == 1 { table[token.first!] = Int32(i) }
        return table
    }
}
