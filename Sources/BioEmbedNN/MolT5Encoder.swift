/// The 3D-MolT5 encoder: a T5 v1.1 encoder whose input embedding mixes the token embedding with
/// the mean of four E3FP "3D token" embeddings (docs/models.md, 3D-MolT5).
///
/// x₀ = c₁·shared[id] + c₃·¼Σ_l FP[fp_l + 1]; (c₁, c₃) = (1, 0) when every fp entry is −1,
/// (0, 1) when every id is 1, (0.5, 0.5) otherwise, decided over the sequences passed together
/// (the reference decides per batch; `forward(..., coefficientsPerSequence: true)` decides per
/// molecule so results do not depend on batching). Blocks: RMS norm, attention without 1/√d and
/// with the layer-0 relative-position bias shared by every layer, padded keys (id = pad) masked,
/// gated-GELU (tanh) FFN; final RMS norm. Packed batches as `PSTModel`. Per layer and T tokens:
/// O(T·(4·inner·d + 3·d·d_ff)) + O(T²·inner).
public final class MolT5Encoder: @unchecked Sendable {
    // @unchecked: immutable after init.

    /// One input: ids `[T]` and fp tokens `[T, 4]` (−1 = none), padding included if any.
    public struct Sequence: Sendable {
        public var ids: [Int32]
        public var fp: [Int32]
        public init(ids: [Int32], fp: [Int32]) { self.ids = ids; self.fp = fp }
    }

    public struct Output: Sendable {
        /// Final RMS-norm output `[T, d]`.
        public var lastHiddenState: [Float]
        /// `[0]` input embedding, `[i+1]` after block i (before the final norm), when requested.
        public var hiddenStates: [[Float]]
    }

    struct Block: Sendable {
        var attentionNorm: RMSNorm
        /// q, k and v stacked `[3·inner, d]`: one sgemm gives `[rows, q | k | v]`.
        var qkv: Linear
        var o: Linear
        var ffnNorm: RMSNorm
        /// wi_0 and wi_1 stacked `[2·d_ff, d]` (gated) or wi alone.
        var wi: Linear
        var wo: Linear
    }

    public let config: MolT5Config
    let shared: [Float]
    let fpEmbedding: [Float]
    let blocks: [Block]
    let finalNorm: RMSNorm
    let bias: T5RelativePositionBias

    /// The layers kept in float32 under `--precision bf16`: the gated activations entering the
    /// feed-forward output projection span too wide a range for bfloat16 (Hugging Face keeps T5's
    /// `wo` in float32 for the same reason); measured: nearest neighbours of pooled embeddings
    /// unchanged for 98.0 % of the benchmark's molecules instead of 96.9 %.
    public static let keptInFP32 = "the feed-forward output projections (wo)"

    public init(config: MolT5Config, weights store: WeightStore) throws(NNError) {
        self.config = config
        let d = config.dModel, inner = config.inner
        shared = try store.take("shared.weight", [config.vocabSize, d]).data
        store.markUsed(["encoder.embed_tokens.weight"])
        fpEmbedding = try store.take("encoder.molecule_fp_embed_tokens.weight", [config.fpBits + 1, d]).data
        bias = T5RelativePositionBias(
            weight: try store.take("encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight", [config.buckets, config.heads]),
            maxDistance: config.maxDistance)
        var blocks: [Block] = []
        for i in 0..<config.layers {
            let a = "encoder.block.\(i).layer.0", f = "encoder.block.\(i).layer.1"
            let gated = config.feedForward == .gatedGelu
            let q = try Linear(store, "\(a).SelfAttention.q", in: d, out: inner, bias: false)
            let k = try Linear(store, "\(a).SelfAttention.k", in: d, out: inner, bias: false)
            let v = try Linear(store, "\(a).SelfAttention.v", in: d, out: inner, bias: false)
            let wi = gated
                ? Linear.stacked([
                    try Linear(store, "\(f).DenseReluDense.wi_0", in: d, out: config.dFF, bias: false),
                    try Linear(store, "\(f).DenseReluDense.wi_1", in: d, out: config.dFF, bias: false),
                ])
                : try Linear(store, "\(f).DenseReluDense.wi", in: d, out: config.dFF, bias: false)
            blocks.append(Block(
                attentionNorm: try RMSNorm(store, "\(a).layer_norm", width: d, eps: config.eps),
                qkv: Linear.stacked([q, k, v]),
                o: try Linear(store, "\(a).SelfAttention.o", in: inner, out: d, bias: false),
                ffnNorm: try RMSNorm(store, "\(f).layer_norm", width: d, eps: config.eps),
                wi: wi,
                wo: try Linear(store, "\(f).DenseReluDense.wo", in: config.dFF, out: d, bias: false, keepFP32: true)))
        }
        self.blocks = blocks
        finalNorm = try RMSNorm(store, "encoder.final_layer_norm", width: d, eps: config.eps)
        try store.finish(ignoringPrefixes: ["decoder.", "lm_head."])
    }

    /// Embedding coefficients (c₁, c₃) for a set of sequences (the reference's batch rule).
    public static func coefficients(_ sequences: [Sequence], padID: Int) -> (token: Float, fp: Float) {
        if sequences.allSatisfy({ $0.fp.allSatisfy { $0 == -1 } }) { return (1, 0) }
        if sequences.allSatisfy({ $0.ids.allSatisfy { $0 == 1 } }) { return (0, 1) }
        return (0.5, 0.5)
    }

    /// Runs a packed batch (ids and fp must be in range; the stage checks them).
    /// Relative cost of one sequence of `tokens` tokens (for balancing): the linear layers' multiply-adds
    /// per token plus attention's 2·T·inner.
    public func cost(tokens: Int) -> Double {
        Double(tokens) * (Double(config.dModel * (4 * config.inner + 3 * config.dFF)) + 2 * Double(tokens * config.inner))
    }

    public func forward(_ batch: [Sequence], coefficientsPerSequence: Bool = false, collectHiddenStates: Bool = false) -> [Output] {
        let d = config.dModel, inner = config.inner, heads = config.heads
        let lengths = batch.map(\.ids.count)
        let rows = lengths.reduce(0, +)
        let starts = lengths.reduce(into: [0]) { $0.append($0.last! + $1) }
        let maxLength = lengths.max() ?? 0
        guard rows > 0 else { return batch.map { _ in Output(lastHiddenState: [], hiddenStates: []) } }

        var x = [Float](repeating: 0, count: rows * d)
        let batchCoefficients = Self.coefficients(batch, padID: config.padID)
        var fpSum = [Float](repeating: 0, count: d)
        for (b, sequence) in batch.enumerated() {
            let (c1, c3) = coefficientsPerSequence ? Self.coefficients([sequence], padID: config.padID) : batchCoefficients
            for t in 0..<sequence.ids.count {
                let row = (starts[b] + t) * d
                let id = Int(sequence.ids[t])
                for c in 0..<d { x[row + c] = c1 * shared[id * d + c] }
                if c3 != 0 {
                    for c in 0..<d { fpSum[c] = 0 }
                    for l in 0..<4 {
                        let f = Int(sequence.fp[t * 4 + l]) + 1
                        for c in 0..<d { fpSum[c] += fpEmbedding[f * d + c] }
                    }
                    for c in 0..<d { x[row + c] += c3 * (fpSum[c] / 4) }
                }
            }
        }
        var hidden: [[Float]] = collectHiddenStates ? [x] : []
        var allowed = [UInt8](repeating: 1, count: rows)
        for (b, sequence) in batch.enumerated() {
            for t in 0..<sequence.ids.count where Int(sequence.ids[t]) == config.padID { allowed[starts[b] + t] = 0 }
        }
        var h = [Float](repeating: 0, count: rows * d)
        var qkv = [Float](repeating: 0, count: rows * 3 * inner)
        var o = [Float](repeating: 0, count: rows * inner)
        let gated = config.feedForward == .gatedGelu
        let ffWidth = (gated ? 2 : 1) * config.dFF
        var f = [Float](repeating: 0, count: rows * ffWidth)
        var scratch = [Float](repeating: 0, count: maxLength * maxLength)
        var biasTables: [Int: [Float]] = [:]
        for length in Set(lengths) { biasTables[length] = bias.table(length: length) }

        let dFF = config.dFF
        for block in blocks {
            x.withUnsafeMutableBufferPointer { xp in
            h.withUnsafeMutableBufferPointer { hp in
            qkv.withUnsafeMutableBufferPointer { qkvp in
            o.withUnsafeMutableBufferPointer { op in
            f.withUnsafeMutableBufferPointer { fp in
            scratch.withUnsafeMutableBufferPointer { sp in
            allowed.withUnsafeBufferPointer { ap in
                let X = xp.baseAddress!, H = hp.baseAddress!, QKV = qkvp.baseAddress!, O = op.baseAddress!, F = fp.baseAddress!
                let ld = 3 * inner
                block.attentionNorm.apply(X, rows: rows, into: H)
                block.qkv.apply(H, rows: rows, into: QKV)
                for b in 0..<batch.count {
                    let r = starts[b]
                    biasTables[lengths[b]]!.withUnsafeBufferPointer { table in
                        MultiHeadAttention.apply(
                            q: QKV + r * ld, ldq: ld, k: QKV + r * ld + inner, ldk: ld, v: QKV + r * ld + 2 * inner, ldv: ld,
                            out: O + r * inner, ldo: inner, queries: lengths[b], keys: lengths[b], heads: heads, headDim: config.dKV, scale: 1,
                            keyAllowed: ap.baseAddress! + r, bias: .init(table.baseAddress!), scratch: sp.baseAddress!)
                    }
                }
                block.o.apply(O, rows: rows, into: X, accumulate: true)
                block.ffnNorm.apply(X, rows: rows, into: H)
                block.wi.apply(H, rows: rows, into: F)
                if gated {
                    // In place: F[:, 0..<dFF] = gelu_tanh(F[:, 0..<dFF]) ⊙ F[:, dFF..<2·dFF].
                    for row in 0..<rows {
                        let gate = F + row * ffWidth
                        NNKernels.geluTanh(gate, count: dFF)
                        let linear = gate + dFF
                        for j in 0..<dFF { gate[j] *= linear[j] }
                    }
                } else {
                    NNKernels.relu(F, count: rows * dFF)
                }
                block.wo.apply(F, rows: rows, into: X, accumulate: true, ldx: ffWidth)
            }}}}}}}
            if collectHiddenStates { hidden.append(x) }
        }
        x.withUnsafeMutableBufferPointer { xp in finalNorm.apply(xp.baseAddress!, rows: rows, into: xp.baseAddress!) }
        return (0..<batch.count).map { b in
            Output(
                lastHiddenState: Array(x[(starts[b] * d)..<(starts[b + 1] * d)]),
                hiddenStates: hidden.map { Array($0[(starts[b] * d)..<(starts[b + 1] * d)]) })
        }
    }
}
