/// A pre-norm ViT block (timm layout): X += proj(MHSA(LN₁X)) with a fused `qkv` Linear (columns
/// q of all heads, then k, then v), X += fc2(GELU(fc1(LN₂X))) with exact GELU.
///
/// Used by BrainMAE's temporal encoder, decoder and AG self-attention blocks. Sequences of one
/// call have equal length `length`; keys may be masked per row. O(rows·12·w² + rows·length·w).
public struct TransformerBlock: Sendable {
    let norm1, norm2: LayerNorm
    let qkv, proj, fc1, fc2: Linear
    let heads: Int
    let width: Int

    public init(_ store: WeightStore, _ prefix: String, width: Int, heads: Int, hidden: Int, eps: Float) throws(NNError) {
        norm1 = try LayerNorm(store, prefix + ".norm1", width: width, eps: eps)
        norm2 = try LayerNorm(store, prefix + ".norm2", width: width, eps: eps)
        qkv = try Linear(store, prefix + ".attn.qkv", in: width, out: 3 * width)
        proj = try Linear(store, prefix + ".attn.proj", in: width, out: width)
        fc1 = try Linear(store, prefix + ".mlp.fc1", in: width, out: hidden)
        fc2 = try Linear(store, prefix + ".mlp.fc2", in: hidden, out: width)
        self.heads = heads
        self.width = width
    }

    /// Updates `x` (`[sequences·length, width]`) in place; `keyAllowed` (one byte per row, 1 =
    /// attend) masks keys within each sequence.
    public func apply(_ x: UnsafeMutablePointer<Float>, sequences: Int, length: Int, keyAllowed: UnsafePointer<UInt8>? = nil, workspace: Workspace) {
        let rows = sequences * length, w = width
        let u = workspace.buffer(0, rows * w)
        let qkvRows = workspace.buffer(1, rows * 3 * w)
        let o = workspace.buffer(2, rows * w)
        let scratch = workspace.buffer(3, length * length)
        let f = workspace.buffer(4, rows * fc1.outFeatures)
        norm1.apply(x, rows: rows, into: u)
        qkv.apply(u, rows: rows, into: qkvRows)
        let hd = w / heads
        for s in 0..<sequences {
            let base = qkvRows + s * length * 3 * w
            MultiHeadAttention.apply(
                q: base, ldq: 3 * w, k: base + w, ldk: 3 * w, v: base + 2 * w, ldv: 3 * w, out: o + s * length * w, ldo: w,
                queries: length, keys: length, heads: heads, headDim: hd, scale: 1 / Float(hd).squareRoot(),
                keyAllowed: keyAllowed.map { $0 + s * length }, scratch: scratch)
        }
        proj.apply(o, rows: rows, into: x, accumulate: true)
        norm2.apply(x, rows: rows, into: u)
        fc1.apply(u, rows: rows, into: f)
        NNKernels.geluExact(f, count: rows * fc1.outFeatures)
        fc2.apply(f, rows: rows, into: x, accumulate: true)
    }
}
