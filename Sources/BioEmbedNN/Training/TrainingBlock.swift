/// One pre-norm BrainMAE block on the training path: attention (region-aware graph attention over
/// the ROI embeddings, or self-attention with a fused `qkv`) then the GELU MLP, each residual.
///
/// `forward` updates `x` (`[sequences·length, width]`) in place and returns what `backward`
/// needs; `backward` turns d(output) into d(input) in place and accumulates every parameter
/// gradient. Graph blocks run on sequences of length N (one per segment) and read the ROI
/// embedding table E (`[N, width]`). Cost: O(rows·(4 + 2·mlp)·w² + sequences·heads·L²·w/heads).
struct TrainingBlock: Sendable {
    let graph: Bool
    let width: Int
    let heads: Int
    let norm1, norm2: NormSlot
    /// Graph: q_proj, k_proj (on E), v_proj, out_proj. Self-attention: qkv, proj (in q, v slots).
    let q, k, v, out: LinearSlot?
    let qkv, proj: LinearSlot?
    let fc1, fc2: LinearSlot

    /// Buffers of one forward pass (arena-owned).
    struct Cache<S: TrainingScalar> {
        var ln1: (xhat: UnsafeMutablePointer<S>, inverse: UnsafeMutablePointer<S>)
        var u1: UnsafeMutablePointer<S>
        /// Graph: V `[rows, w]`; self-attention: QKV `[rows, 3w]`.
        var projected: UnsafeMutablePointer<S>
        var attention: UnsafeMutablePointer<S>
        var o: UnsafeMutablePointer<S>
        var ln2: (xhat: UnsafeMutablePointer<S>, inverse: UnsafeMutablePointer<S>)
        var u2, f, g: UnsafeMutablePointer<S>
        /// Graph only: projected embeddings Q, K `[N, w]`.
        var qe, ke: UnsafeMutablePointer<S>?
    }

    static func spec(_ prefix: String, graph: Bool, width w: Int, hidden: Int) -> [(name: String, shape: [Int])] {
        var s = NormSlot.spec(prefix + ".norm1", width: w)
        if graph {
            for name in ["q_proj", "k_proj", "v_proj", "out_proj"] { s += LinearSlot.spec(prefix + ".attn." + name, in: w, out: w) }
        } else {
            s += LinearSlot.spec(prefix + ".attn.qkv", in: w, out: 3 * w) + LinearSlot.spec(prefix + ".attn.proj", in: w, out: w)
        }
        return s + NormSlot.spec(prefix + ".norm2", width: w) + LinearSlot.spec(prefix + ".mlp.fc1", in: w, out: hidden)
            + LinearSlot.spec(prefix + ".mlp.fc2", in: hidden, out: w)
    }

    init<S>(_ p: ParameterSet<S>, _ prefix: String, graph: Bool, width w: Int, heads: Int, hidden: Int) {
        self.graph = graph
        width = w
        self.heads = heads
        norm1 = NormSlot(p, prefix + ".norm1", width: w)
        norm2 = NormSlot(p, prefix + ".norm2", width: w)
        if graph {
            q = LinearSlot(p, prefix + ".attn.q_proj", in: w, out: w)
            k = LinearSlot(p, prefix + ".attn.k_proj", in: w, out: w)
            v = LinearSlot(p, prefix + ".attn.v_proj", in: w, out: w)
            out = LinearSlot(p, prefix + ".attn.out_proj", in: w, out: w)
            qkv = nil; proj = nil
        } else {
            qkv = LinearSlot(p, prefix + ".attn.qkv", in: w, out: 3 * w)
            proj = LinearSlot(p, prefix + ".attn.proj", in: w, out: w)
            q = nil; k = nil; v = nil; out = nil
        }
        fc1 = LinearSlot(p, prefix + ".mlp.fc1", in: w, out: hidden)
        fc2 = LinearSlot(p, prefix + ".mlp.fc2", in: hidden, out: w)
    }

    func forward<S>(
        _ p: ParameterSet<S>, _ x: UnsafeMutablePointer<S>, sequences: Int, length: Int, keyAllowed: UnsafePointer<UInt8>?,
        roiEmbedding: UnsafePointer<S>?, eps: S, arena: TrainingArena<S>
    ) -> Cache<S> {
        let rows = sequences * length, w = width, hd = w / heads
        let u1 = arena.take(rows * w)
        let ln1 = norm1.forward(p, x, rows: rows, eps: eps, into: u1, arena: arena)
        let attention = arena.take(sequences * heads * length * length)
        let o = arena.take(rows * w)
        var qe: UnsafeMutablePointer<S>? = nil, ke: UnsafeMutablePointer<S>? = nil
        let projected: UnsafeMutablePointer<S>
        if graph, let q, let k, let v, let e = roiEmbedding {
            let n = length, scale = 1 / S(hd).squareRoot()
            let qb = arena.take(n * w), kb = arena.take(n * w)
            q.forward(p, e, rows: n, into: qb)
            k.forward(p, e, rows: n, into: kb)
            qe = qb; ke = kb
            projected = arena.take(rows * w)
            v.forward(p, u1, rows: rows, into: projected)
            let scores = arena.take(heads * n * n)
            for h in 0..<heads {
                Backprop.gemm(transB: true, m: n, n: n, k: hd, alpha: scale, a: qb + h * hd, lda: w, b: kb + h * hd, ldb: w, c: scores + h * n * n, ldc: n)
                for i in 0..<n { scores[h * n * n + i * n + i] = -S.infinity }
            }
            nonisolated(unsafe) let (aP, scoresP, vP, oP, allowedP) = (attention, scores, projected, o, keyAllowed)
            Backprop.parallel(sequences, enabled: arena.parallel) { range, _ in for s in range {
                for h in 0..<heads {
                    let a = aP + (s * heads + h) * n * n
                    a.update(from: scoresP + h * n * n, count: n * n)
                    for i in 0..<n { Backprop.softmaxRow(a + i * n, count: n, allowed: allowedP.map { $0 + s * n }) }
                    Backprop.gemm(m: n, n: hd, k: n, a: a, lda: n, b: vP + s * n * w + h * hd, ldb: w, c: oP + s * n * w + h * hd, ldc: w)
                }
            } }
            out!.forward(p, o, rows: rows, into: x, accumulate: true)
        } else {
            projected = arena.take(rows * 3 * w)
            qkv!.forward(p, u1, rows: rows, into: projected)
            Backprop.selfAttention(
                qkv: projected, width: w, heads: heads, sequences: sequences, length: length, keyAllowed: keyAllowed, attention: attention, out: o, parallel: arena.parallel)
            proj!.forward(p, o, rows: rows, into: x, accumulate: true)
        }
        let u2 = arena.take(rows * w)
        let ln2 = norm2.forward(p, x, rows: rows, eps: eps, into: u2, arena: arena)
        let hidden = fc1.outFeatures
        let f = arena.take(rows * hidden), g = arena.take(rows * hidden)
        fc1.forward(p, u2, rows: rows, into: f)
        nonisolated(unsafe) let (fP, gP) = (f, g)
        Backprop.parallel(rows, enabled: arena.parallel) { range, _ in
            Backprop.gelu(fP + range.lowerBound * hidden, count: range.count * hidden, into: gP + range.lowerBound * hidden)
        }
        fc2.forward(p, g, rows: rows, into: x, accumulate: true)
        return Cache(ln1: ln1, u1: u1, projected: projected, attention: attention, o: o, ln2: ln2, u2: u2, f: f, g: g, qe: qe, ke: ke)
    }

    /// `dx` holds d(block output) and becomes d(block input); gradients of E go to `dRoiEmbedding`.
    func backward<S>(
        _ p: ParameterSet<S>, _ dx: UnsafeMutablePointer<S>, cache c: Cache<S>, sequences: Int, length: Int,
        roiEmbedding: UnsafePointer<S>?, dRoiEmbedding: UnsafeMutablePointer<S>?, arena: TrainingArena<S>
    ) {
        let rows = sequences * length, w = width, hd = w / heads, hidden = fc1.outFeatures
        // MLP.
        let dg = arena.take(rows * hidden)
        fc2.backward(p, dx, x: c.g, rows: rows, dx: dg)
        nonisolated(unsafe) let (dgP, fP) = (dg, c.f)
        Backprop.parallel(rows, enabled: arena.parallel) { range, _ in
            Backprop.geluBackward(dgP + range.lowerBound * hidden, x: fP + range.lowerBound * hidden, count: range.count * hidden)
        }
        let du = arena.take(rows * w)
        fc1.backward(p, dg, x: c.u2, rows: rows, dx: du)
        norm2.backward(p, du, rows: rows, cache: c.ln2, dx: dx, parallel: arena.parallel)
        // Attention.
        let dO = arena.take(rows * w)
        let chunks = Backprop.chunks(sequences, enabled: arena.parallel)
        let scratch = arena.take(chunks * length * length)
        if graph, let q, let k, let v, let out, let e = roiEmbedding, let dE = dRoiEmbedding, let qe = c.qe, let ke = c.ke {
            let n = length, scale = 1 / S(hd).squareRoot()
            out.backward(p, dx, x: c.o, rows: rows, dx: dO)
            let dv = arena.take(rows * w)
            // Per-(segment, head) score gradients, summed over segments afterwards in a fixed order,
            // so the result does not depend on how segments are split across threads.
            let perSegment = arena.take(sequences * heads * n * n)
            nonisolated(unsafe) let (aP, vP, dOP, dvP, dsP) = (c.attention, c.projected, dO, dv, perSegment)
            Backprop.parallel(sequences, enabled: arena.parallel) { range, _ in for s in range {
                for h in 0..<heads {
                    let a = aP + (s * heads + h) * n * n, work = dsP + (s * heads + h) * n * n
                    let dOh = dOP + s * n * w + h * hd, vh = vP + s * n * w + h * hd
                    Backprop.gemm(transB: true, m: n, n: n, k: hd, a: dOh, lda: w, b: vh, ldb: w, c: work, ldc: n)
                    Backprop.gemm(transA: true, m: n, n: hd, k: n, a: a, lda: n, b: dOh, ldb: w, c: dvP + s * n * w + h * hd, ldc: w)
                    Backprop.softmaxBackward(work, a: a, rows: n, count: n)
                }
            } }
            let dScores = arena.take(heads * n * n, zeroed: true)
            for s in 0..<sequences {
                let part = perSegment + s * heads * n * n
                for i in 0..<(heads * n * n) { dScores[i] += part[i] }
            }
            let dq = arena.take(n * w), dk = arena.take(n * w)
            for h in 0..<heads {
                Backprop.gemm(m: n, n: hd, k: n, alpha: scale, a: dScores + h * n * n, lda: n, b: ke + h * hd, ldb: w, c: dq + h * hd, ldc: w)
                Backprop.gemm(transA: true, m: n, n: hd, k: n, alpha: scale, a: dScores + h * n * n, lda: n, b: qe + h * hd, ldb: w, c: dk + h * hd, ldc: w)
            }
            q.backward(p, dq, x: e, rows: n, dx: dE, accumulate: true)
            k.backward(p, dk, x: e, rows: n, dx: dE, accumulate: true)
            v.backward(p, dv, x: c.u1, rows: rows, dx: du)
        } else if let qkv, let proj {
            proj.backward(p, dx, x: c.o, rows: rows, dx: dO)
            let dqkv = arena.take(rows * 3 * w)
            Backprop.selfAttentionBackward(
                dOut: dO, qkv: c.projected, attention: c.attention, width: w, heads: heads, sequences: sequences, length: length, dqkv: dqkv,
                scratch: scratch, parallel: arena.parallel)
            qkv.backward(p, dqkv, x: c.u1, rows: rows, dx: du)
        }
        norm1.backward(p, du, rows: rows, cache: c.ln1, dx: dx, parallel: arena.parallel)
    }
}
