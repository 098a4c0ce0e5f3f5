import Foundation

/// Graph measures on a connectivity matrix, with the Brain Connectivity Toolbox's (bctpy 0.6)
/// conventions.
public enum GraphMeasures {
    /// bctpy `threshold_proportional(W, p)`: zero the diagonal; for a symmetric matrix keep the upper
    /// triangle; sort the non-zero **signed** weights descending; keep the first
    /// `round_half_up((n²−n)·p/2)` (`/1` when asymmetric); symmetrise.
    ///
    /// - Parameter absolute: rank by |w| instead (the other common convention; not bctpy's default).
    /// - Complexity: O(n² log n).
    public static func thresholdProportional(_ w: [Double], n: Int, density p: Double, absolute: Bool = false) -> [Double] {
        var m = w
        for i in 0..<n { m[i * n + i] = 0 }
        var symmetric = true
        for i in 0..<n { for j in 0..<n where abs(m[i * n + j] - m[j * n + i]) > 1e-8 + 1e-5 * abs(m[j * n + i]) { symmetric = false } }
        if symmetric { for i in 0..<n { for j in 0...i { m[i * n + j] = 0 } } }
        let ud = symmetric ? 2.0 : 1.0
        var entries: [Int] = []
        for i in 0..<(n * n) where m[i] != 0 { entries.append(i) }
        // Descending by weight; ties keep index order reversed, as numpy's argsort(...)[::-1] on distinct values.
        entries.sort { a, b in
            let (x, y) = absolute ? (abs(m[a]), abs(m[b])) : (m[a], m[b])
            return x != y ? x > y : a > b
        }
        let keep = Int((Double(n * n - n) * p / ud + 0.5).rounded(.down))
        for e in entries.dropFirst(max(0, keep)) { m[e] = 0 }
        if symmetric {
            for i in 0..<n { for j in (i + 1)..<max(i + 1, n) { m[j * n + i] = m[i * n + j] } }
        }
        return m
    }

    /// Binary adjacency `W > 0`.
    public static func adjacency(_ w: [Double]) -> [UInt8] { w.map { $0 > 0 ? 1 : 0 } }

    /// Degree `Σ_j A_ij`.
    public static func degree(_ a: [UInt8], n: Int) -> [Int64] {
        (0..<n).map { i in (0..<n).reduce(Int64(0)) { $0 + Int64(a[i * n + $1]) } }
    }

    /// Strength `Σ_j W_ij` (signed).
    public static func strength(_ w: [Double], n: Int) -> [Double] {
        (0..<n).map { i in (0..<n).reduce(0.0) { $0 + w[i * n + $1] } }
    }

    /// Triangles through each node, `(A³)_ii / 2` for an undirected graph without self-loops.
    ///
    /// - Complexity: O(n·k²) with neighbour lists (k = degree).
    public static func triangles(_ a: [UInt8], n: Int) -> [Int64] {
        let neighbours = (0..<n).map { i in (0..<n).filter { a[i * n + $0] != 0 && $0 != i } }
        return (0..<n).map { i in
            var count: Int64 = 0
            let v = neighbours[i]
            for x in 0..<v.count { for y in (x + 1)..<max(x + 1, v.count) where a[v[x] * n + v[y]] != 0 { count += 1 } }
            return count
        }
    }

    /// Binary clustering coefficient `2t_i / (k_i(k_i−1))`, 0 when `k_i < 2` (bctpy `clustering_coef_bu`).
    public static func clustering(_ a: [UInt8], n: Int) -> [Double] {
        let k = degree(a, n: n), t = triangles(a, n: n)
        return (0..<n).map { k[$0] >= 2 ? 2 * Double(t[$0]) / Double(k[$0] * (k[$0] - 1)) : 0 }
    }

    /// Newman modularity `Q = 1/(2m) Σ_ij (A_ij − k_i k_j / 2m) δ(c_i, c_j)` of a given partition.
    public static func modularity(_ a: [UInt8], n: Int, partition: [Int64]) -> Double {
        let k = degree(a, n: n).map(Double.init)
        let twoM = k.reduce(0, +)
        guard twoM > 0 else { return 0 }
        var q = 0.0
        for i in 0..<n { for j in 0..<n where partition[i] == partition[j] { q += Double(a[i * n + j]) - k[i] * k[j] / twoM } }
        return q / twoM
    }
}
