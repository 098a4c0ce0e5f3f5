/// The Protein Structure Transformer (Chen et al. 2024): ESM-2 whose every layer adds a GIN
/// structure term, projected, to Q, K and V (docs/models.md, PST).
///
/// Inference only, float32. A batch is *packed*: the tokens of all sequences are stacked row-wise
/// (no padding), the linear layers run as one sgemm over all rows, attention and rotary run per
/// sequence. Results therefore do not depend on batch composition. Per layer and T tokens:
/// O(T·(12+9)·D²) for the linear algebra, O(T²·D) for attention, O(E·D) for the graph sums.
public final class PSTModel: @unchecked Sendable {
    // @unchecked: immutable after init; `forward` allocates its own buffers.

    /// One protein: ESM-1b tokens `[<cls>] + residues + [<eos>]` and directed edges j → i in token
    /// indices (both directions of every undirected edge).
    public struct Sequence: Sendable {
        public var tokens: [Int32]
        public var edgeSources: [Int32]
        public var edgeTargets: [Int32]
        public init(tokens: [Int32], edgeSources: [Int32] = [], edgeTargets: [Int32] = []) {
            self.tokens = tokens
            self.edgeSources = edgeSources
            self.edgeTargets = edgeTargets
        }
    }

    /// Outputs of one sequence, `[T, D]` row-major.
    public struct Output: Sendable {
        /// Final-LayerNorm output of every token (incl. `<cls>`/`<eos>`).
        public var tokenEmbeddings: [Float]
        /// Residual stream after each layer (when requested), `layers × [T, D]`.
        public var hiddenStates: [[Float]]
        /// Layer 0's structure-extractor output (when requested).
        public var structureLayer0: [Float]?
    }

    struct Layer: Sendable {
        var attentionNorm: LayerNorm
        var q, k, v, out: Linear
        var qStruct, kStruct, vStruct: Linear
        var extractor: GINStructureExtractor
        var finalNorm: LayerNorm
        var fc1, fc2: Linear
    }

    public let config: PSTConfig
    let embedTokens: [Float]
    let layers: [Layer]
    let finalNorm: LayerNorm
    let rotary: RotaryEmbedding
    let lmDense: Linear?
    let lmNorm: LayerNorm?
    let lmBias: [Float]?

    public init(config: PSTConfig, weights store: WeightStore) throws(NNError) {
        self.config = config
        let d = config.embedDim
        embedTokens = try store.take("embed_tokens.weight", [config.vocabSize, d]).data
        var layers: [Layer] = []
        for l in 0..<config.layers {
            let p = "layers.\(l)"
            let a = "\(p).self_attn"
            layers.append(Layer(
                attentionNorm: try LayerNorm(store, "\(p).self_attn_layer_norm", width: d, eps: config.layerNormEps),
                q: try Linear(store, "\(a).q_proj", in: d, out: d), k: try Linear(store, "\(a).k_proj", in: d, out: d),
                v: try Linear(store, "\(a).v_proj", in: d, out: d), out: try Linear(store, "\(a).out_proj", in: d, out: d),
                qStruct: try Linear(store, "\(a).q_struct_proj", in: d, out: d, bias: false),
                kStruct: try Linear(store, "\(a).k_struct_proj", in: d, out: d, bias: false),
                vStruct: try Linear(store, "\(a).v_struct_proj", in: d, out: d, bias: false),
                extractor: try GINStructureExtractor(store, "\(a).struct_extractor", width: d, hops: config.kHop, batchNormEps: config.batchNormEps),
                finalNorm: try LayerNorm(store, "\(p).final_layer_norm", width: d, eps: config.layerNormEps),
                fc1: try Linear(store, "\(p).fc1", in: d, out: config.ffnDim), fc2: try Linear(store, "\(p).fc2", in: config.ffnDim, out: d)))
            if let shape = store.shape(of: "\(a).rot_emb.inv_freq"), shape != [config.headDim / 2] {
                throw NNError.tensorShape(file: store.file.path, name: "\(a).rot_emb.inv_freq", expected: [config.headDim / 2], found: shape)
            }
            store.markUsed(["\(a).rot_emb.inv_freq"])
        }
        self.layers = layers
        finalNorm = try LayerNorm(store, "emb_layer_norm_after", width: d, eps: config.layerNormEps)
        rotary = RotaryEmbedding(headDim: config.headDim, base: config.rotaryBase)
        if store.contains("lm_head.dense.weight") {
            lmDense = try Linear(store, "lm_head.dense", in: d, out: d)
            lmNorm = try LayerNorm(store, "lm_head.layer_norm", width: d, eps: config.layerNormEps)
            lmBias = try store.take("lm_head.bias", [config.vocabSize]).data
            _ = try store.takeIfPresent("lm_head.weight", [config.vocabSize, d])
        } else {
            lmDense = nil; lmNorm = nil; lmBias = nil
        }
        try store.finish(ignoringPrefixes: ["contact_head."])
    }

    /// Relative cost of one sequence of `tokens` tokens (for balancing): per layer ≈ 21·D² per token
    /// for the linear layers and extractors, 2·T·D for attention.
    public func cost(tokens: Int) -> Double { Double(tokens) * (21 * Double(config.embedDim) + 2 * Double(tokens)) }

    /// Runs a packed batch. `useStructure: false` skips the extractors (= plain ESM-2).
    public func forward(_ batch: [Sequence], useStructure: Bool = true, collectHiddenStates: Bool = false) -> [Output] {
        let d = config.embedDim, heads = config.heads, hd = config.headDim
        let lengths = batch.map(\.tokens.count)
        let rows = lengths.reduce(0, +)
        guard rows > 0 else { return batch.map { _ in Output(tokenEmbeddings: [], hiddenStates: [], structureLayer0: nil) } }
        let starts = lengths.reduce(into: [0]) { $0.append($0.last! + $1) }
        let maxLength = lengths.max() ?? 0
        let n = rows * d

        // CSR graph over packed rows (targets → sources).
        var degree = [Int32](repeating: 0, count: rows + 1)
        for (b, sequence) in batch.enumerated() { for t in sequence.edgeTargets { degree[starts[b] + Int(t) + 1] += 1 } }
        for i in 0..<rows { degree[i + 1] += degree[i] }
        var sources = [Int32](repeating: 0, count: Int(degree[rows]))
        var fill = degree
        for (b, sequence) in batch.enumerated() {
            for (s, t) in zip(sequence.edgeSources, sequence.edgeTargets) {
                let row = starts[b] + Int(t)
                sources[Int(fill[row])] = Int32(starts[b] + Int(s))
                fill[row] += 1
            }
        }

        var x = [Float](repeating: 0, count: n)
        var y = x, q = x, k = x, v = x, s = x, o = x
        var work = [Float](repeating: 0, count: 3 * n)
        var ffn = [Float](repeating: 0, count: rows * config.ffnDim)
        var scratch = [Float](repeating: 0, count: maxLength * maxLength)
        let (cosTable, sinTable) = rotary.tables(length: maxLength)
        var hidden = [[Float]](repeating: [], count: batch.count * (collectHiddenStates ? config.layers : 0))
        var structure0: [Float]? = nil

        // Embedding with ESM-2's token-dropout rescale (0.88 / (1 − mask fraction)).
        for (b, sequence) in batch.enumerated() {
            let masks = sequence.tokens.filter { Int($0) == config.maskIndex }.count
            let scale: Float = config.tokenDropout ? Float(1 - 0.15 * 0.8) / (1 - Float(masks) / Float(sequence.tokens.count)) : 1
            for (t, token) in sequence.tokens.enumerated() where Int(token) != config.maskIndex {
                let row = (starts[b] + t) * d
                for c in 0..<d { x[row + c] = scale * embedTokens[Int(token) * d + c] }
            }
        }

        for (l, layer) in layers.enumerated() {
            x.withUnsafeMutableBufferPointer { xp in
            y.withUnsafeMutableBufferPointer { yp in
            q.withUnsafeMutableBufferPointer { qp in
            k.withUnsafeMutableBufferPointer { kp in
            v.withUnsafeMutableBufferPointer { vp in
            s.withUnsafeMutableBufferPointer { sp in
            o.withUnsafeMutableBufferPointer { op in
            ffn.withUnsafeMutableBufferPointer { fp in
            scratch.withUnsafeMutableBufferPointer { scp in
            work.withUnsafeMutableBufferPointer { wp in
            cosTable.withUnsafeBufferPointer { cp in
            sinTable.withUnsafeBufferPointer { snp in
            degree.withUnsafeBufferPointer { dp in
            sources.withUnsafeBufferPointer { srcp in
                let X = xp.baseAddress!, Y = yp.baseAddress!, Q = qp.baseAddress!, K = kp.baseAddress!, V = vp.baseAddress!
                let S = sp.baseAddress!, O = op.baseAddress!, F = fp.baseAddress!
                layer.attentionNorm.apply(X, rows: rows, into: Y)
                layer.q.apply(Y, rows: rows, into: Q)
                layer.k.apply(Y, rows: rows, into: K)
                layer.v.apply(Y, rows: rows, into: V)
                if useStructure {
                    layer.extractor.apply(
                        Y, rows: rows, start: dp.baseAddress!, sources: srcp.baseAddress ?? dp.baseAddress!, into: S, work: wp.baseAddress!)
                    if l == 0 && collectHiddenStates { structure0 = Array(UnsafeBufferPointer(start: S, count: n)) }
                    layer.qStruct.apply(S, rows: rows, into: Q, accumulate: true)
                    layer.kStruct.apply(S, rows: rows, into: K, accumulate: true)
                    layer.vStruct.apply(S, rows: rows, into: V, accumulate: true)
                }
                for b in 0..<batch.count {
                    let r0 = starts[b] * d
                    rotary.apply(Q + r0, length: lengths[b], heads: heads, ld: d, cos: cp.baseAddress!, sin: snp.baseAddress!)
                    rotary.apply(K + r0, length: lengths[b], heads: heads, ld: d, cos: cp.baseAddress!, sin: snp.baseAddress!)
                    MultiHeadAttention.apply(
                        q: Q + r0, ldq: d, k: K + r0, ldk: d, v: V + r0, ldv: d, out: O + r0, ldo: d, queries: lengths[b], keys: lengths[b],
                        heads: heads, headDim: hd, scale: 1 / Float(hd).squareRoot(), scratch: scp.baseAddress!)
                }
                layer.out.apply(O, rows: rows, into: X, accumulate: true)
                layer.finalNorm.apply(X, rows: rows, into: Y)
                layer.fc1.apply(Y, rows: rows, into: F)
                NNKernels.geluExact(F, count: rows * config.ffnDim)
                layer.fc2.apply(F, rows: rows, into: X, accumulate: true)
            }}}}}}}}}}}}}}
            if collectHiddenStates {
                for b in 0..<batch.count { hidden[b * config.layers + l] = Array(x[(starts[b] * d)..<(starts[b + 1] * d)]) }
            }
        }
        x.withUnsafeMutableBufferPointer { xp in finalNorm.apply(xp.baseAddress!, rows: rows, into: xp.baseAddress!) }
        return (0..<batch.count).map { b in
            Output(
                tokenEmbeddings: Array(x[(starts[b] * d)..<(starts[b + 1] * d)]),
                hiddenStates: collectHiddenStates ? Array(hidden[(b * config.layers)..<((b + 1) * config.layers)]) : [],
                structureLayer0: structure0.map { Array($0[(starts[b] * d)..<(starts[b + 1] * d)]) })
        }
    }

    /// Masked-LM logits `[T, vocab]` from final token embeddings (tied output matrix); nil when the
    /// weights have no `lm_head`.
    public func logits(_ tokenEmbeddings: [Float]) -> [Float]? {
        guard let lmDense, let lmNorm, let lmBias else { return nil }
        let d = config.embedDim, rows = tokenEmbeddings.count / d
        var hiddenRows = [Float](repeating: 0, count: rows * d)
        var out = [Float](repeating: 0, count: rows * config.vocabSize)
        tokenEmbeddings.withUnsafeBufferPointer { e in
            hiddenRows.withUnsafeMutableBufferPointer { h in
                lmDense.apply(e.baseAddress!, rows: rows, into: h.baseAddress!)
                NNKernels.geluExact(h.baseAddress!, count: rows * d)
                lmNorm.apply(h.baseAddress!, rows: rows, into: h.baseAddress!)
                embedTokens.withUnsafeBufferPointer { w in
                    out.withUnsafeMutableBufferPointer { o in
                        NNKernels.gemm(transB: true, m: rows, n: config.vocabSize, k: d, a: h.baseAddress!, lda: d, b: w.baseAddress!, ldb: d, c: o.baseAddress!, ldc: config.vocabSize)
                        NNKernels.addRowVector(o.baseAddress!, rows: rows, width: config.vocabSize, lmBias)
                    }
                }
            }
        }
        return out
    }
}
