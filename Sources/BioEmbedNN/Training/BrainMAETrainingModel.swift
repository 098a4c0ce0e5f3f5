import Foundation

/// BrainMAE-ref v0 (docs/models.md, BrainMAE) with reverse-mode gradients, generic over
/// Float (training) and Double (gradient checks, fixture parity).
///
/// `step(segments:mask:batch:segmentCount:)` runs the masked forward pass (TSE → temporal
/// encoder → decoder), the λ-weighted MSE of §5.5, and the backward pass to every trainable
/// parameter (`parameters.gradients`, overwritten). Buffers come from an arena reused across
/// calls, so steady-state steps allocate only the returned arrays. Not thread-safe.
/// Inputs: segments `[B, K, N, τ]`, mask `[B, K, N]` (1 = masked).
public final class BrainMAETrainingModel<S: TrainingScalar>: @unchecked Sendable {
    // @unchecked: owned by one training loop at a time.
    public let config: BrainMAEConfig
    public let parameters: ParameterSet<S>
    let roiEmbed: Int
    let inputProj: LinearSlot
    let tseBlocks: [TrainingBlock]
    let tseNorm: NormSlot
    let stateProj: LinearSlot
    let cls: Int
    let encBlocks: [TrainingBlock]
    let encNorm: NormSlot
    let decEmbed: LinearSlot
    let decBlocks: [TrainingBlock]
    let decNorm: NormSlot
    let decPred: LinearSlot
    /// Fixed sin-cos buffers `[K_max + 1, width]`.
    public let encoderPositions: [S]
    public let decoderPositions: [S]
    let arena = TrainingArena<S>()

    /// Run the per-segment attention GEMMs side by side on the BLAS threads (BLAS single-threaded
    /// meanwhile). This sets OpenBLAS's process-wide thread count, so only a process training one
    /// model at a time (the CLI, the pipeline stage) should turn it on. Results are identical.
    public var parallelSegments: Bool {
        get { arena.parallel }
        set { arena.parallel = newValue }
    }

    /// ∂loss/∂reconstruction `[B,K,N,τ]`, ∂loss/∂tokens `[B,1+K,D]`, ∂loss/∂states `[B,K,D]` of the last step.
    public private(set) var reconstructionGradient: [S] = []
    public private(set) var tokenGradient: [S] = []
    public private(set) var stateGradient: [S] = []

    /// Names and shapes of every trainable tensor (PyTorch `state_dict` names, buffers excluded).
    public static func parameterSpec(_ c: BrainMAEConfig) -> [(name: String, shape: [Int])] {
        let n = c.rois, d = c.tseDim, dm = c.encDim, dd = c.decDim
        var s: [(name: String, shape: [Int])] = [("tse.roi_embed", [n, d])]
        s += LinearSlot.spec("tse.input_proj", in: c.segmentLength, out: d)
        for l in 0..<c.tseDepth {
            s += TrainingBlock.spec("tse.blocks.\(l)", graph: c.tseType == .sg || l == 0, width: d, hidden: c.hidden(d))
        }
        s += NormSlot.spec("tse.norm", width: d) + LinearSlot.spec("tse.state_proj", in: d, out: dm)
        s.append(("encoder.cls_token", [1, 1, dm]))
        for l in 0..<c.encDepth { s += TrainingBlock.spec("encoder.blocks.\(l)", graph: false, width: dm, hidden: c.hidden(dm)) }
        s += NormSlot.spec("encoder.norm", width: dm) + LinearSlot.spec("decoder.embed", in: dm, out: dd)
        for l in 0..<c.decDepth { s += TrainingBlock.spec("decoder.blocks.\(l)", graph: false, width: dd, hidden: c.hidden(dd)) }
        s += NormSlot.spec("decoder.norm", width: dd) + LinearSlot.spec("decoder.pred", in: dd, out: n * c.segmentLength)
        return s
    }

    /// Whether tensor `name` gets AdamW's decoupled weight decay: 2-D Linear `*.weight` matrices only.
    public static func isDecayed(name: String, shape: [Int]) -> Bool { shape.count == 2 && name.hasSuffix(".weight") }

    /// A model over `parameters` (laid out by `parameterSpec(config)`); the positional buffers
    /// default to the §5.3 formula.
    public init(config c: BrainMAEConfig, parameters: ParameterSet<S>, encoderPositions: [S]? = nil, decoderPositions: [S]? = nil) {
        config = c
        self.parameters = parameters
        let p = parameters, n = c.rois, d = c.tseDim, dm = c.encDim, dd = c.decDim
        roiEmbed = p.offset("tse.roi_embed")
        inputProj = LinearSlot(p, "tse.input_proj", in: c.segmentLength, out: d)
        tseBlocks = (0..<c.tseDepth).map { l in
            TrainingBlock(p, "tse.blocks.\(l)", graph: c.tseType == .sg || l == 0, width: d, heads: c.tseHeads, hidden: c.hidden(d))
        }
        tseNorm = NormSlot(p, "tse.norm", width: d)
        stateProj = LinearSlot(p, "tse.state_proj", in: d, out: dm)
        cls = p.offset("encoder.cls_token")
        encBlocks = (0..<c.encDepth).map { l in
            TrainingBlock(p, "encoder.blocks.\(l)", graph: false, width: dm, heads: c.encHeads, hidden: c.hidden(dm))
        }
        encNorm = NormSlot(p, "encoder.norm", width: dm)
        decEmbed = LinearSlot(p, "decoder.embed", in: dm, out: dd)
        decBlocks = (0..<c.decDepth).map { l in
            TrainingBlock(p, "decoder.blocks.\(l)", graph: false, width: dd, heads: c.decHeads, hidden: c.hidden(dd))
        }
        decNorm = NormSlot(p, "decoder.norm", width: dd)
        decPred = LinearSlot(p, "decoder.pred", in: dd, out: n * c.segmentLength)
        self.encoderPositions = encoderPositions ?? BrainMAEModel.sinCosTable(positions: c.maxSegments + 1, width: dm).map { S($0) }
        self.decoderPositions = decoderPositions ?? BrainMAEModel.sinCosTable(positions: c.maxSegments + 1, width: dd).map { S($0) }
    }

    /// Loss `[loss, loss_masked, loss_visible]` and all parameter gradients for one batch.
    public func step(segments: [S], mask: [S], batch: Int, segmentCount k: Int) -> [Double] {
        precondition(k >= 1 && k <= config.maxSegments && segments.count == batch * k * config.rois * config.segmentLength)
        precondition(mask.count == batch * k * config.rois)
        arena.reset()
        parameters.zeroGradients()
        return run(segments: segments, mask: mask, batch: batch, segmentCount: k, backward: true).loss
    }

    /// Loss only (no gradients), e.g. for a held-out split.
    public func loss(segments: [S], mask: [S], batch: Int, segmentCount k: Int) -> [Double] {
        arena.reset()
        return run(segments: segments, mask: mask, batch: batch, segmentCount: k, backward: false).loss
    }

    /// Encoder tokens `[B, 1+K, D]` without masking (token 0 is `embedding_cls`).
    public func tokens(segments: [S], batch: Int, segmentCount k: Int) -> [S] {
        arena.reset()
        return run(segments: segments, mask: nil, batch: batch, segmentCount: k, backward: false).tokens
    }

    // swiftlint:disable:next function_body_length
    private func run(segments: [S], mask: [S]?, batch: Int, segmentCount k: Int, backward: Bool) -> (loss: [Double], tokens: [S]) {
        let c = config, p = parameters, n = c.rois, tau = c.segmentLength, d = c.tseDim, dm = c.encDim, dd = c.decDim
        let eps = S(Double(c.eps))
        let segs = batch * k, rows = segs * n, length = k + 1
        var allowed = [UInt8](repeating: 1, count: rows)
        if let mask { for i in 0..<rows where mask[i] != 0 { allowed[i] = 0 } }
        return allowed.withUnsafeBufferPointer { ap -> (loss: [Double], tokens: [S]) in
            let keyAllowed: UnsafePointer<UInt8>? = mask == nil ? nil : ap.baseAddress!
            // TSE.
            let input = arena.take(rows * tau)
            segments.withUnsafeBufferPointer { sp in
                for i in 0..<rows { for t in 0..<tau { input[i * tau + t] = ap[i] != 0 ? sp[i * tau + t] : 0 } }
            }
            let h = arena.take(rows * d)
            inputProj.forward(p, input, rows: rows, into: h)
            let e = p.values + roiEmbed
            let tseCaches = tseBlocks.map { block in
                block.forward(p, h, sequences: segs, length: n, keyAllowed: keyAllowed, roiEmbedding: e, eps: eps, arena: arena)
            }
            let z = arena.take(rows * d)
            let tseLN = tseNorm.forward(p, h, rows: rows, eps: eps, into: z, arena: arena)
            let pooled = arena.take(segs * d, zeroed: true)
            let visibleCount = arena.take(segs)
            for s in 0..<segs {
                var visible: S = 0
                for r in 0..<n where ap[s * n + r] != 0 {
                    visible += 1
                    let row = z + (s * n + r) * d
                    for j in 0..<d { pooled[s * d + j] += row[j] }
                }
                visibleCount[s] = max(visible, 1)
                for j in 0..<d { pooled[s * d + j] /= visibleCount[s] }
            }
            let states = arena.take(segs * dm)
            stateProj.forward(p, pooled, rows: segs, into: states)
            // Temporal encoder.
            let x = arena.take(batch * length * dm)
            encoderPositions.withUnsafeBufferPointer { pos in
                for b in 0..<batch {
                    for t in 0..<length {
                        let source = t == 0 ? p.values + cls : states + (b * k + t - 1) * dm
                        for j in 0..<dm { x[(b * length + t) * dm + j] = source[j] + pos[t * dm + j] }
                    }
                }
            }
            let encCaches = encBlocks.map { block in
                block.forward(p, x, sequences: batch, length: length, keyAllowed: nil, roiEmbedding: nil, eps: eps, arena: arena)
            }
            let tokens = arena.take(batch * length * dm)
            let encLN = encNorm.forward(p, x, rows: batch * length, eps: eps, into: tokens, arena: arena)
            let tokenArray = Array(UnsafeBufferPointer(start: tokens, count: batch * length * dm))
            guard mask != nil else { return ([], tokenArray) }
            // Decoder.
            let y = arena.take(batch * length * dd)
            decEmbed.forward(p, tokens, rows: batch * length, into: y)
            decoderPositions.withUnsafeBufferPointer { pos in
                for b in 0..<batch { for t in 0..<length { for j in 0..<dd { y[(b * length + t) * dd + j] += pos[t * dd + j] } } }
            }
            let decCaches = decBlocks.map { block in
                block.forward(p, y, sequences: batch, length: length, keyAllowed: nil, roiEmbedding: nil, eps: eps, arena: arena)
            }
            let yn = arena.take(batch * length * dd)
            let decLN = decNorm.forward(p, y, rows: batch * length, eps: eps, into: yn, arena: arena)
            let yk = arena.take(segs * dd)
            for b in 0..<batch { (yk + b * k * dd).update(from: yn + (b * length + 1) * dd, count: k * dd) }
            let width = n * tau
            let r = arena.take(segs * width)
            decPred.forward(p, yk, rows: segs, into: r)
            // Loss (§5.5): sums in Double.
            var masked = 0.0, visible = 0.0, nMasked = 0, nVisible = 0
            segments.withUnsafeBufferPointer { sp in
                for i in 0..<rows {
                    for t in 0..<tau {
                        let diff = Double(r[i * tau + t] - sp[i * tau + t])
                        if ap[i] == 0 { masked += diff * diff; nMasked += 1 } else { visible += diff * diff; nVisible += 1 }
                    }
                }
            }
            let lambda = Double(c.maskLossWeight)
            let lm = masked / Double(max(nMasked, 1)), lv = visible / Double(max(nVisible, 1))
            let loss = [lambda * lm + (1 - lambda) * lv, lm, lv]
            guard backward else { return (loss, tokenArray) }

            // Backward: ∂L/∂R = 2(R − S)·(λ·m/n_m + (1−λ)(1−m)/n_v).
            let wm = S(2 * lambda / Double(max(nMasked, 1))), wv = S(2 * (1 - lambda) / Double(max(nVisible, 1)))
            let dr = arena.take(segs * width)
            segments.withUnsafeBufferPointer { sp in
                for i in 0..<rows {
                    let weight = ap[i] == 0 ? wm : wv
                    for t in 0..<tau { dr[i * tau + t] = weight * (r[i * tau + t] - sp[i * tau + t]) }
                }
            }
            reconstructionGradient = Array(UnsafeBufferPointer(start: dr, count: segs * width))
            let dyk = arena.take(segs * dd)
            decPred.backward(p, dr, x: yk, rows: segs, dx: dyk)
            let dyn = arena.take(batch * length * dd, zeroed: true)
            for b in 0..<batch { (dyn + (b * length + 1) * dd).update(from: dyk + b * k * dd, count: k * dd) }
            let dy = arena.take(batch * length * dd, zeroed: true)
            decNorm.backward(p, dyn, rows: batch * length, cache: decLN, dx: dy, parallel: arena.parallel)
            for (block, cache) in zip(decBlocks, decCaches).reversed() {
                block.backward(p, dy, cache: cache, sequences: batch, length: length, roiEmbedding: nil, dRoiEmbedding: nil, arena: arena)
            }
            let dTokens = arena.take(batch * length * dm)
            decEmbed.backward(p, dy, x: tokens, rows: batch * length, dx: dTokens)
            tokenGradient = Array(UnsafeBufferPointer(start: dTokens, count: batch * length * dm))
            let dx = arena.take(batch * length * dm, zeroed: true)
            encNorm.backward(p, dTokens, rows: batch * length, cache: encLN, dx: dx, parallel: arena.parallel)
            for (block, cache) in zip(encBlocks, encCaches).reversed() {
                block.backward(p, dx, cache: cache, sequences: batch, length: length, roiEmbedding: nil, dRoiEmbedding: nil, arena: arena)
            }
            let dStates = arena.take(segs * dm)
            let dCls = p.gradients + cls
            for b in 0..<batch {
                for j in 0..<dm { dCls[j] += dx[b * length * dm + j] }
                (dStates + b * k * dm).update(from: dx + (b * length + 1) * dm, count: k * dm)
            }
            stateGradient = Array(UnsafeBufferPointer(start: dStates, count: segs * dm))
            let dPooled = arena.take(segs * d)
            stateProj.backward(p, dStates, x: pooled, rows: segs, dx: dPooled)
            let dz = arena.take(rows * d, zeroed: true)
            for s in 0..<segs {
                for r in 0..<n where ap[s * n + r] != 0 {
                    let row = dz + (s * n + r) * d
                    for j in 0..<d { row[j] = dPooled[s * d + j] / visibleCount[s] }
                }
            }
            let dh = arena.take(rows * d, zeroed: true)
            tseNorm.backward(p, dz, rows: rows, cache: tseLN, dx: dh, parallel: arena.parallel)
            let dE = p.gradients + roiEmbed
            for (block, cache) in zip(tseBlocks, tseCaches).reversed() {
                block.backward(p, dh, cache: cache, sequences: segs, length: n, roiEmbedding: e, dRoiEmbedding: dE, arena: arena)
            }
            inputProj.backward(p, dh, x: input, rows: rows, dx: nil)
            return (loss, tokenArray)
        }
    }
}

extension BrainMAETrainingModel {
    /// `[N, T]` (ROI-major) → `[K, N, τ]` with K = ⌊T/τ⌋ (trailing frames dropped), §5.1.
    public static func segment(_ x: [S], rois n: Int, frames: Int, length tau: Int) -> [S] {
        let k = frames / tau
        var out = [S](repeating: 0, count: k * n * tau)
        for s in 0..<k { for r in 0..<n { for t in 0..<tau { out[(s * n + r) * tau + t] = x[r * frames + s * tau + t] } } }
        return out
    }
}
