import Foundation

/// BrainMAE-ref v0 (docs/models.md, BrainMAE): a Transient-State Encoder (region-aware graph
/// attention over ROIs, per segment) followed by a temporal transformer with a [CLS] token;
/// optional decoder for masked reconstruction.
///
/// Inputs are segments `[B, K, N, τ]` (`segment(_:)` builds them from a z-scored `[N, T]`
/// series). All B·K segments run through the TSE together (rows = B·K·N), then the B sequences of
/// 1+K tokens through the encoder. Cost ≈ B·K·depth·N·(10·d² + N·d) for the SG TSE.
public final class BrainMAEModel: @unchecked Sendable {
    // @unchecked: immutable after init; each call uses its own Workspace.

    enum TSEBlock: Sendable {
        /// Graph attention: fixed pre-softmax scores per head `[heads, N, N]` (diagonal −∞).
        case graph(scores: [Float], norm1: LayerNorm, v: Linear, out: Linear, norm2: LayerNorm, fc1: Linear, fc2: Linear)
        case selfAttention(TransformerBlock)
    }

    public struct Output: Sendable {
        /// `[B, K, D]` TSE state vectors.
        public var states: [Float]
        /// `[B, 1+K, D]` encoder output after its final LayerNorm ([CLS] first).
        public var tokens: [Float]
    }

    public let config: BrainMAEConfig
    let inputProj: Linear
    let tseBlocks: [TSEBlock]
    let tseNorm: LayerNorm
    let stateProj: Linear
    let cls: [Float]
    let encPos: [Float]
    let encBlocks: [TransformerBlock]
    let encNorm: LayerNorm
    let decEmbed: Linear?
    let decPos: [Float]
    let decBlocks: [TransformerBlock]
    let decNorm: LayerNorm?
    let decPred: Linear?

    public init(config c: BrainMAEConfig, weights store: WeightStore) throws(NNError) {
        config = c
        let n = c.rois, d = c.tseDim
        let roiEmbed = try store.take("tse.roi_embed", [n, d])
        inputProj = try Linear(store, "tse.input_proj", in: c.segmentLength, out: d)
        var blocks: [TSEBlock] = []
        for l in 0..<c.tseDepth {
            let p = "tse.blocks.\(l)"
            if c.tseType == .sg || l == 0 {
                let q = try Linear(store, p + ".attn.q_proj", in: d, out: d)
                let k = try Linear(store, p + ".attn.k_proj", in: d, out: d)
                blocks.append(.graph(
                    scores: Self.graphScores(roiEmbed.data, rois: n, q: q, k: k, heads: c.tseHeads),
                    norm1: try LayerNorm(store, p + ".norm1", width: d, eps: c.eps), v: try Linear(store, p + ".attn.v_proj", in: d, out: d),
                    out: try Linear(store, p + ".attn.out_proj", in: d, out: d), norm2: try LayerNorm(store, p + ".norm2", width: d, eps: c.eps),
                    fc1: try Linear(store, p + ".mlp.fc1", in: d, out: c.hidden(d)), fc2: try Linear(store, p + ".mlp.fc2", in: c.hidden(d), out: d)))
            } else {
                blocks.append(.selfAttention(try TransformerBlock(store, p, width: d, heads: c.tseHeads, hidden: c.hidden(d), eps: c.eps)))
            }
        }
        tseBlocks = blocks
        tseNorm = try LayerNorm(store, "tse.norm", width: d, eps: c.eps)
        stateProj = try Linear(store, "tse.state_proj", in: d, out: c.encDim)
        cls = try store.take("encoder.cls_token", [1, 1, c.encDim]).data
        encPos = try store.takeIfPresent("encoder.pos_embed", [1, c.maxSegments + 1, c.encDim])?.data
            ?? Self.sinCosTable(positions: c.maxSegments + 1, width: c.encDim)
        encBlocks = try (0..<c.encDepth).map { (l: Int) throws(NNError) in
            try TransformerBlock(store, "encoder.blocks.\(l)", width: c.encDim, heads: c.encHeads, hidden: c.hidden(c.encDim), eps: c.eps)
        }
        encNorm = try LayerNorm(store, "encoder.norm", width: c.encDim, eps: c.eps)
        if store.contains("decoder.embed.weight") {
            decEmbed = try Linear(store, "decoder.embed", in: c.encDim, out: c.decDim)
            decPos = try store.takeIfPresent("decoder.pos_embed", [1, c.maxSegments + 1, c.decDim])?.data
                ?? Self.sinCosTable(positions: c.maxSegments + 1, width: c.decDim)
            decBlocks = try (0..<c.decDepth).map { (l: Int) throws(NNError) in
                try TransformerBlock(store, "decoder.blocks.\(l)", width: c.decDim, heads: c.decHeads, hidden: c.hidden(c.decDim), eps: c.eps)
            }
            decNorm = try LayerNorm(store, "decoder.norm", width: c.decDim, eps: c.eps)
            decPred = try Linear(store, "decoder.pred", in: c.decDim, out: n * c.segmentLength)
        } else {
            decEmbed = nil; decPos = []; decBlocks = []; decNorm = nil; decPred = nil
        }
        try store.finish()
    }

    /// The fixed sin-cos table `[positions, width]`: P[p,k] = sin(p·ω_k), P[p,w/2+k] = cos(p·ω_k),
    /// ω_k = 10000^(−k/(w/2)), formed in float64.
    public static func sinCosTable(positions: Int, width: Int) -> [Float] {
        let half = width / 2
        var table = [Float](repeating: 0, count: positions * width)
        for p in 0..<positions {
            for k in 0..<half {
                let omega = pow(10000.0, -Double(k) / Double(half))
                table[p * width + k] = Float(sin(Double(p) * omega))
                table[p * width + half + k] = Float(cos(Double(p) * omega))
            }
        }
        return table
    }

    /// The positional table the encoder uses (`encoder.pos_embed` or the formula).
    public var encoderPositions: [Float] { encPos }

    static func graphScores(_ roiEmbed: [Float], rois n: Int, q: Linear, k: Linear, heads: Int) -> [Float] {
        let d = q.outFeatures, hd = d / heads
        var qv = [Float](repeating: 0, count: n * d), kv = qv
        var scores = [Float](repeating: 0, count: heads * n * n)
        roiEmbed.withUnsafeBufferPointer { e in
            qv.withUnsafeMutableBufferPointer { qp in q.apply(e.baseAddress!, rows: n, into: qp.baseAddress!) }
            kv.withUnsafeMutableBufferPointer { kp in k.apply(e.baseAddress!, rows: n, into: kp.baseAddress!) }
        }
        qv.withUnsafeBufferPointer { qp in
            kv.withUnsafeBufferPointer { kp in
                scores.withUnsafeMutableBufferPointer { sp in
                    for h in 0..<heads {
                        NNKernels.gemm(
                            transB: true, m: n, n: n, k: hd, alpha: 1 / Float(hd).squareRoot(), a: qp.baseAddress! + h * hd, lda: d,
                            b: kp.baseAddress! + h * hd, ldb: d, c: sp.baseAddress! + h * n * n, ldc: n)
                        for i in 0..<n { sp[h * n * n + i * n + i] = -.infinity }
                    }
                }
            }
        }
        return scores
    }

    /// Softmax attention of graph block `block` without masking, `[heads, N, N]` (diagonal 0);
    /// nil when that block is a self-attention block.
    public func graphAttention(block: Int) -> [Float]? {
        guard case let .graph(scores, _, _, _, _, _, _) = tseBlocks[block] else { return nil }
        var a = scores
        let n = config.rois
        let rowCount = a.count / n
        a.withUnsafeMutableBufferPointer { p in
            for r in 0..<rowCount { NNKernels.softmaxRow(p.baseAddress! + r * n, count: n) }
        }
        return a
    }

    /// Per-ROI z-score over time (population std + 1e-8) of a `[N, T]` series, float64 sums.
    public static func zscore(_ x: [Float], rois: Int, frames: Int) -> [Float] {
        var out = x
        for r in 0..<rois {
            var sum = 0.0
            for t in 0..<frames { sum += Double(x[r * frames + t]) }
            let mean = sum / Double(max(1, frames))
            var squares = 0.0
            for t in 0..<frames { let dv = Double(x[r * frames + t]) - mean; squares += dv * dv }
            let std = (squares / Double(max(1, frames))).squareRoot() + 1e-8
            for t in 0..<frames { out[r * frames + t] = Float((Double(x[r * frames + t]) - mean) / std) }
        }
        return out
    }

    /// `[N, T]` → `[K, N, τ]` with K = ⌊T/τ⌋ (trailing frames dropped).
    public func segment(_ x: [Float], frames: Int) -> [Float] {
        let n = config.rois, tau = config.segmentLength, k = frames / tau
        var out = [Float](repeating: 0, count: k * n * tau)
        for s in 0..<k { for r in 0..<n { for t in 0..<tau { out[(s * n + r) * tau + t] = x[r * frames + s * tau + t] } } }
        return out
    }

    /// Encodes B samples of K segments each (`segments` `[B, K, N, τ]`, `mask` `[B, K, N]` with
    /// 1 = masked, nil = nothing masked). Requires 1 ≤ K ≤ max_segments. `ws`: scratch buffers, reused
    /// when the caller passes the same one to its next call (one per thread).
    public func encode(segments: [Float], batch: Int, segmentCount k: Int, mask: [Float]? = nil, workspace ws: Workspace = Workspace()) -> Output {
        let c = config, n = c.rois, tau = c.segmentLength, d = c.tseDim, dm = c.encDim
        precondition(k >= 1 && k <= c.maxSegments && segments.count == batch * k * n * tau)
        let segs = batch * k, rows = segs * n
        let h = ws.buffer(10, rows * d)
        let input = ws.buffer(11, rows * tau)
        var allowed = [UInt8](repeating: 1, count: rows)
        if let mask { for i in 0..<rows where mask[i] != 0 { allowed[i] = 0 } }
        for i in 0..<rows { for t in 0..<tau { input[i * tau + t] = allowed[i] != 0 ? segments[i * tau + t] : 0 } }
        inputProj.apply(input, rows: rows, into: h)
        allowed.withUnsafeBufferPointer { ap in
            for block in tseBlocks {
                switch block {
                case let .selfAttention(transformer):
                    transformer.apply(h, sequences: segs, length: n, keyAllowed: mask == nil ? nil : ap.baseAddress!, workspace: ws)
                case let .graph(scores, norm1, v, out, norm2, fc1, fc2):
                    let u = ws.buffer(12, rows * d), vv = ws.buffer(13, rows * d), o = ws.buffer(14, rows * d)
                    let hd = d / c.tseHeads
                    norm1.apply(h, rows: rows, into: u)
                    v.apply(u, rows: rows, into: vv)
                    scores.withUnsafeBufferPointer { sp in
                        let fixed = ws.buffer(15, c.tseHeads * n * n)
                        fixed.update(from: sp.baseAddress!, count: c.tseHeads * n * n)
                        for r in 0..<(c.tseHeads * n) { NNKernels.softmaxRow(fixed + r * n, count: n) }
                        let perSegment = ws.buffer(16, c.tseHeads * n * n)
                        for s in 0..<segs {
                            var a = UnsafePointer(fixed)
                            if mask != nil && ap[(s * n)..<((s + 1) * n)].contains(0) {
                                perSegment.update(from: sp.baseAddress!, count: c.tseHeads * n * n)
                                for r in 0..<(c.tseHeads * n) { NNKernels.softmaxRow(perSegment + r * n, count: n, allowed: ap.baseAddress! + s * n) }
                                a = UnsafePointer(perSegment)
                            }
                            for head in 0..<c.tseHeads {
                                NNKernels.gemm(
                                    m: n, n: hd, k: n, a: a + head * n * n, lda: n, b: vv + s * n * d + head * hd, ldb: d,
                                    c: o + s * n * d + head * hd, ldc: d)
                            }
                        }
                    }
                    out.apply(o, rows: rows, into: h, accumulate: true)
                    norm2.apply(h, rows: rows, into: u)
                    let f = ws.buffer(17, rows * fc1.outFeatures)
                    fc1.apply(u, rows: rows, into: f)
                    NNKernels.geluExact(f, count: rows * fc1.outFeatures)
                    fc2.apply(f, rows: rows, into: h, accumulate: true)
                }
            }
        }
        tseNorm.apply(h, rows: rows, into: h)
        let z = ws.buffer(18, segs * d)
        for s in 0..<segs {
            var visible: Float = 0
            for j in 0..<d { z[s * d + j] = 0 }
            for r in 0..<n where allowed[s * n + r] != 0 {
                visible += 1
                let row = h + (s * n + r) * d
                for j in 0..<d { z[s * d + j] += row[j] }
            }
            for j in 0..<d { z[s * d + j] /= max(visible, 1) }
        }
        var states = [Float](repeating: 0, count: segs * dm)
        states.withUnsafeMutableBufferPointer { sp in stateProj.apply(z, rows: segs, into: sp.baseAddress!) }

        let length = k + 1
        var tokens = [Float](repeating: 0, count: batch * length * dm)
        for b in 0..<batch {
            for p in 0..<length {
                for j in 0..<dm {
                    let value = p == 0 ? cls[j] : states[(b * k + p - 1) * dm + j]
                    tokens[(b * length + p) * dm + j] = value + encPos[p * dm + j]
                }
            }
        }
        tokens.withUnsafeMutableBufferPointer { tp in
            for block in encBlocks { block.apply(tp.baseAddress!, sequences: batch, length: length, workspace: ws) }
            encNorm.apply(tp.baseAddress!, rows: batch * length, into: tp.baseAddress!)
        }
        return Output(states: states, tokens: tokens)
    }

    /// One run's embedding from all its segments `[K, N, τ]` (`segment(_:)`): windows of at most
    /// max_segments segments, each encoded on its own; `cls` is the mean of the windows' [CLS]
    /// outputs, `tokens` the segment tokens `[K, D]` in order.
    public func embedRun(segments: [Float], workspace: Workspace = Workspace()) -> (cls: [Float], tokens: [Float]) {
        let c = config, perSegment = c.rois * c.segmentLength, dm = c.encDim
        let k = segments.count / perSegment
        var cls = [Float](repeating: 0, count: dm)
        var tokens: [Float] = []
        tokens.reserveCapacity(k * dm)
        var windows = 0
        var first = 0
        while first < k {
            let count = min(c.maxSegments, k - first)
            let out = encode(
                segments: Array(segments[(first * perSegment)..<((first + count) * perSegment)]), batch: 1, segmentCount: count, workspace: workspace)
            for j in 0..<dm { cls[j] += out.tokens[j] }
            tokens += out.tokens[dm...]
            windows += 1
            first += count
        }
        return (cls.map { $0 / Float(max(windows, 1)) }, tokens)
    }

    /// Decoder reconstruction `[B, K, N, τ]` from encoder tokens `[B, 1+K, D]`; nil without decoder weights.
    public func reconstruct(tokens: [Float], batch: Int, segmentCount k: Int) -> [Float]? {
        guard let decEmbed, let decNorm, let decPred else { return nil }
        let c = config, length = k + 1, dd = c.decDim
        let ws = Workspace()
        var y = [Float](repeating: 0, count: batch * length * dd)
        var out = [Float](repeating: 0, count: batch * k * c.rois * c.segmentLength)
        tokens.withUnsafeBufferPointer { tp in
            y.withUnsafeMutableBufferPointer { yp in
                let Y = yp.baseAddress!
                decEmbed.apply(tp.baseAddress!, rows: batch * length, into: Y)
                for b in 0..<batch { for p in 0..<length { for j in 0..<dd { Y[(b * length + p) * dd + j] += decPos[p * dd + j] } } }
                for block in decBlocks { block.apply(Y, sequences: batch, length: length, workspace: ws) }
                decNorm.apply(Y, rows: batch * length, into: Y)
                out.withUnsafeMutableBufferPointer { op in
                    for b in 0..<batch {
                        decPred.apply(Y + (b * length + 1) * dd, rows: k, into: op.baseAddress! + b * k * c.rois * c.segmentLength)
                    }
                }
            }
        }
        return out
    }

    /// `[loss, loss_masked, loss_visible]` of §5.5 (loss_masked = 0 when nothing is masked).
    public func loss(reconstruction: [Float], segments: [Float], mask: [Float]) -> [Float] {
        let tau = config.segmentLength
        var masked = 0.0, visible = 0.0, nMasked = 0, nVisible = 0
        for i in 0..<mask.count {
            for t in 0..<tau {
                let e = Double(reconstruction[i * tau + t] - segments[i * tau + t])
                if mask[i] != 0 { masked += e * e; nMasked += 1 } else { visible += e * e; nVisible += 1 }
            }
        }
        let lm = masked / Double(max(nMasked, 1)), lv = visible / Double(max(nVisible, 1))
        let w = Double(config.maskLossWeight)
        return [Float(w * lm + (1 - w) * lv), Float(lm), Float(lv)]
    }
}
