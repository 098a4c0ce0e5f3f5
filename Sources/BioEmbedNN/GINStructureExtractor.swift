/// PST's per-layer structure extractor: `k_hop` GIN layers with BatchNorm (running statistics)
/// over the Cα graph, each hop projected and summed (docs/models.md, PST).
///
/// For hop k: a_i = (1+ε_k)·h_i + Σ_{j→i} h_j; u = Linear₂(ReLU(Linear₀(a))); z = BN_k(u);
/// S += z·P_kᵀ; h ← ReLU(z). Cost per hop O(rows · D² + edges · D).
public struct GINStructureExtractor: Sendable {
    struct Hop: Sendable {
        var eps: Float
        var lin0: Linear
        var lin2: Linear
        /// BatchNorm folded to z = u ⊙ scale + shift.
        var scale: [Float]
        var shift: [Float]
        var projection: Linear
    }

    let hops: [Hop]
    let width: Int

    public init(_ store: WeightStore, _ prefix: String, width: Int, hops: Int, batchNormEps: Float) throws(NNError) {
        var list: [Hop] = []
        for k in 0..<hops {
            let eps = try store.take("\(prefix).gnn.\(k).eps", [1]).data[0]
            let lin0 = try Linear(store, "\(prefix).gnn.\(k).nn.0", in: width, out: width)
            let lin2 = try Linear(store, "\(prefix).gnn.\(k).nn.2", in: width, out: width)
            let bn = "\(prefix).batch_norms.\(k)"
            let gamma = try store.take(bn + ".weight", [width]).data
            let beta = try store.take(bn + ".bias", [width]).data
            let mean = try store.take(bn + ".running_mean", [width]).data
            let variance = try store.take(bn + ".running_var", [width]).data
            store.markUsed([bn + ".num_batches_tracked"])
            var scale = [Float](repeating: 0, count: width)
            var shift = scale
            for j in 0..<width {
                scale[j] = gamma[j] / (variance[j] + batchNormEps).squareRoot()
                shift[j] = beta[j] - mean[j] * scale[j]
            }
            let projection = try Linear(store, "\(prefix).out_projs.\(k)", in: width, out: width, bias: false)
            list.append(Hop(eps: eps, lin0: lin0, lin2: lin2, scale: scale, shift: shift, projection: projection))
        }
        self.hops = list
        self.width = width
    }

    /// S[rows, D] = Σ_k BN_k(GIN_k(h))·P_kᵀ for input `y`; the graph is CSR over rows
    /// (`start[i]..<start[i+1]` index `sources`). `work` holds 3·rows·D floats.
    func apply(
        _ y: UnsafePointer<Float>, rows: Int, start: UnsafePointer<Int32>, sources: UnsafePointer<Int32>,
        into s: UnsafeMutablePointer<Float>, work: UnsafeMutablePointer<Float>
    ) {
        let d = width
        let n = rows * d
        let h = work, a = work + n, u = work + 2 * n
        h.update(from: y, count: n)
        s.update(repeating: 0, count: n)
        for (k, hop) in hops.enumerated() {
            let factor = 1 + hop.eps
            for i in 0..<rows {
                let out = a + i * d
                let own = h + i * d
                for c in 0..<d { out[c] = factor * own[c] }
                for e in Int(start[i])..<Int(start[i + 1]) {
                    let other = h + Int(sources[e]) * d
                    for c in 0..<d { out[c] += other[c] }
                }
            }
            hop.lin0.apply(a, rows: rows, into: u)
            NNKernels.relu(u, count: n)
            hop.lin2.apply(u, rows: rows, into: a)
            hop.scale.withUnsafeBufferPointer { sc in
                hop.shift.withUnsafeBufferPointer { sh in
                    for i in 0..<rows {
                        let row = a + i * d
                        for c in 0..<d { row[c] = row[c] * sc[c] + sh[c] }
                    }
                }
            }
            hop.projection.apply(a, rows: rows, into: s, accumulate: true)
            if k + 1 < hops.count {
                h.update(from: a, count: n)
                NNKernels.relu(h, count: n)
            }
        }
    }
}
