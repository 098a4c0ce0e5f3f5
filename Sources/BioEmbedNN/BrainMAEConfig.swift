/// BrainMAE-ref v0 hyper-parameters (docs/models.md, BrainMAE), keys as in the fixtures'
/// `config.json`: `n_rois`, `seg_len`, `max_segments`, `tse_type` (SG|AG), `tse_*`, `enc_*`,
/// `dec_*`, `mlp_ratio`, `ln_eps`, `mask_loss_weight`.
public struct BrainMAEConfig: Sendable {
    public enum TSEType: String, Sendable { case sg = "SG", ag = "AG" }

    public var rois: Int
    public var segmentLength: Int
    public var maxSegments: Int
    public var tseType: TSEType
    public var tseDim, tseDepth, tseHeads: Int
    public var encDim, encDepth, encHeads: Int
    public var decDim, decDepth, decHeads: Int
    public var mlpRatio: Double
    public var eps: Float
    public var maskLossWeight: Float

    public init(_ file: ModelConfigFile) throws(NNError) {
        rois = try file.positiveInt("n_rois")
        segmentLength = try file.positiveInt("seg_len")
        maxSegments = try file.positiveInt("max_segments")
        let type = try file.string("tse_type", default: "SG")
        guard let tseType = TSEType(rawValue: type.uppercased()) else {
            throw NNError.invalidConfig(file: file.path, key: "tse_type", expected: "SG or AG", found: type)
        }
        self.tseType = tseType
        tseDim = try file.positiveInt("tse_dim"); tseDepth = try file.positiveInt("tse_depth"); tseHeads = try file.positiveInt("tse_heads")
        encDim = try file.positiveInt("enc_dim"); encDepth = try file.positiveInt("enc_depth"); encHeads = try file.positiveInt("enc_heads")
        decDim = try file.positiveInt("dec_dim", default: 1); decDepth = try file.int("dec_depth", default: 0, within: 0...ModelConfigFile.largestSize)
        decHeads = try file.positiveInt("dec_heads", default: 1)
        try file.requireDivisible(tseDim, "tse_dim", by: tseHeads, "tse_heads")
        try file.requireDivisible(encDim, "enc_dim", by: encHeads, "enc_heads")
        try file.requireDivisible(encDim, "enc_dim", by: 2, "2 (sin-cos table)")
        mlpRatio = try file.double("mlp_ratio", default: 4, within: 0.01...64)
        eps = Float(try file.double("ln_eps", default: 1e-6, within: ModelConfigFile.epsilonRange))
        maskLossWeight = Float(try file.double("mask_loss_weight", default: 0.75, within: 0...1))
    }

    func hidden(_ width: Int) -> Int { Int(Double(width) * mlpRatio) }
}
