/// Cα residue graphs over a uniform cell grid (no all-pairs loop).
///
/// - `radius`: undirected pairs (i < j) with ‖p_i − p_j‖ ≤ cutoff (the boundary counts), sorted by
///   (i, j), with their distances. Cell size ≥ cutoff, 27 neighbouring cells per point.
/// - `knn`: per point the k nearest other points, nearest first, ties broken by the lower index;
///   −1 pads rows when fewer than k others exist. Cells are searched in growing cubic shells until
///   the k-th distance is strictly inside the searched cube, so the result equals a full sort.
/// - `graphs`: both in one pass when the cutoff is a sensible cell size (each distance computed once).
/// Positions are `[n*3]` Å; points with a NaN coordinate are never neighbours. Distances are compared
/// as `sqrt(d²)` exactly as a brute-force reference would (squared distances only reject candidates
/// that are clearly out, with a margin of a few ulps). Cost: O(n + edges) for the radius graph at
/// protein densities, O(n·k) for kNN.
public enum ResidueGraphs {
    /// Radius graph: `edges` `[E*2]` (i, j) and `distances` `[E]`.
    public static func radius(positions: [Double], cutoff: Double) -> (edges: [Int32], distances: [Double]) {
        guard cutoff > 0, cutoff.isFinite else { return ([], []) }
        let r = search(positions: positions, cutoff: cutoff, k: 0, cellSize: cutoff)
        return (r.edges, r.edgeDistances)
    }

    /// k nearest neighbours: `indices` and `distances` `[n*k]` (−1 / NaN padding).
    /// `cellSize` (Å) only changes the speed, never the result.
    public static func knn(positions: [Double], k: Int, cellSize: Double = 8) -> (indices: [Int32], distances: [Double]) {
        guard k > 0 else { return ([], []) }
        let r = search(positions: positions, cutoff: 0, k: k, cellSize: cellSize)
        return (r.indices, r.distances)
    }

    /// The radius graph's edges and the kNN table in one pass (the same results as `radius` and
    /// `knn`); `cutoff` 0 or `k` 0 leaves that part empty.
    public static func graphs(positions: [Double], cutoff: Double, k: Int) -> (edges: [Int32], neighbors: [Int32]) {
        let useRadius = cutoff > 0 && cutoff.isFinite
        if !useRadius && k <= 0 { return ([], []) }
        // one grid serves both while the cutoff is a reasonable kNN cell (protein Cα: 5–12 Å)
        if useRadius && k > 0 && (cutoff < 4 || cutoff > 16) {
            return (radius(positions: positions, cutoff: cutoff).edges, knn(positions: positions, k: k).indices)
        }
        let r = search(positions: positions, cutoff: useRadius ? cutoff : 0, k: max(k, 0), cellSize: useRadius ? cutoff : 8)
        return (r.edges, r.indices)
    }

    /// Relative margin under which squared distances cannot decide a comparison of their square
    /// roots (a handful of ulps); such candidates are compared by `sqrt`.
    static let margin = 1e-14

    struct SearchResult {
        var edges: [Int32] = [], edgeDistances: [Double] = []
        var indices: [Int32] = [], distances: [Double] = []
    }

    /// The shared search: radius edges (when `cutoff` > 0) and the kNN table (when `k` > 0).
    static func search(positions: [Double], cutoff: Double, k: Int, cellSize requested: Double) -> SearchResult {
        let n = positions.count / 3
        var result = SearchResult()
        if k > 0 {
            result.indices = [Int32](repeating: -1, count: n * k)
            result.distances = [Double](repeating: .nan, count: n * k)
        }
        guard n > 1 else { return result }
        let useRadius = cutoff > 0
        let grid = CellGrid(positions: positions, cellSize: useRadius ? max(requested, cutoff) : requested)
        let cutoffLow = cutoff * cutoff * (1 - margin), cutoffHigh = cutoff * cutoff * (1 + margin)
        // coordinates in cell order, so that a cell's points are contiguous
        let m = grid.order.count
        let sorted = UnsafeMutablePointer<Double>.allocate(capacity: 3 * max(m, 1))
        defer { sorted.deallocate() }
        // top-k scratch sorted by (distance, index); radius row scratch
        let bestD = UnsafeMutablePointer<Double>.allocate(capacity: max(k, 1))
        let bestJ = UnsafeMutablePointer<Int>.allocate(capacity: max(k, 1))
        var rowJ: [Int32] = [], rowD: [Double] = []
        var runs = RunList()
        defer { bestD.deallocate(); bestJ.deallocate(); runs.deallocate() }
        positions.withUnsafeBufferPointer { p in
        grid.order.withUnsafeBufferPointer { order in
        grid.cellStart.withUnsafeBufferPointer { start in
        grid.cellOf.withUnsafeBufferPointer { cellOf in
            for s in 0..<m {
                let j = Int(order[s])
                sorted[3 * s] = p[3 * j]; sorted[3 * s + 1] = p[3 * j + 1]; sorted[3 * s + 2] = p[3 * j + 2]
            }
            let nx = grid.nx, ny = grid.ny, nz = grid.nz, size = grid.cellSize
            let maxShell = max(nx, ny, nz)
            for i in 0..<n where cellOf[i] >= 0 {
                let (cx, cy, cz) = grid.coordinates(cellOf[i])
                let xi = p[3 * i], yi = p[3 * i + 1], zi = p[3 * i + 2]
                var filled = 0
                var limit = Double.infinity  // squared-distance bound for entering the top-k
                rowJ.removeAll(keepingCapacity: true)
                rowD.removeAll(keepingCapacity: true)
                var shell = 0
                while true {
                    // cells whose Chebyshev distance from (cx, cy, cz) is exactly `shell`, as runs of
                    // the point order: cells along x are adjacent, so a face row is one run
                    var runCount = 0
                    for dz in -shell...shell {
                        let z = cz &+ dz
                        guard z >= 0 && z < nz else { continue }
                        for dy in -shell...shell {
                            let y = cy &+ dy
                            guard y >= 0 && y < ny else { continue }
                            let rowBase = (z &* ny &+ y) &* nx
                            if abs(dz) == shell || abs(dy) == shell {
                                let lo = max(cx &- shell, 0), hi = min(cx &+ shell, nx &- 1)
                                if lo <= hi { runs.append(start[rowBase &+ lo], start[rowBase &+ hi &+ 1], at: &runCount) }
                            } else {
                                if cx &- shell >= 0 { runs.append(start[rowBase &+ cx &- shell], start[rowBase &+ cx &- shell &+ 1], at: &runCount) }
                                if cx &+ shell < nx { runs.append(start[rowBase &+ cx &+ shell], start[rowBase &+ cx &+ shell &+ 1], at: &runCount) }
                            }
                        }
                    }
                    for run in 0..<runCount {
                        var s = runs.lower(run)
                        let end = runs.upper(run)
                        while s < end {
                            defer { s &+= 1 }
                            let ddx = xi - sorted[3 &* s], ddy = yi - sorted[3 &* s &+ 1], ddz = zi - sorted[3 &* s &+ 2]
                            let d2 = ddx * ddx + ddy * ddy + ddz * ddz
                            if d2 > limit && (!useRadius || d2 > cutoffHigh) { continue }
                            let j = Int(order[s])
                            if j == i { continue }
                            let d = d2.squareRoot()
                            if useRadius && shell <= 1 && j > i && (d2 < cutoffLow || (d2 <= cutoffHigh && d <= cutoff)) {
                                rowJ.append(Int32(j))
                                rowD.append(d)
                            }
                            guard k > 0, d2 <= limit else { continue }
                            // insert into the sorted top-k when it beats the worst kept
                            if filled < k || d < bestD[k - 1] || (d == bestD[k - 1] && j < bestJ[k - 1]) {
                                var pos = filled < k ? filled : k - 1
                                while pos > 0 && (d < bestD[pos - 1] || (d == bestD[pos - 1] && j < bestJ[pos - 1])) {
                                    bestD[pos] = bestD[pos - 1]
                                    bestJ[pos] = bestJ[pos - 1]
                                    pos -= 1
                                }
                                bestD[pos] = d
                                bestJ[pos] = j
                                if filled < k { filled += 1 }
                                if filled == k { limit = bestD[k - 1] * bestD[k - 1] * (1 + margin) }
                            }
                        }
                    }
                    if shell >= maxShell { break }
                    if !(useRadius && shell == 0) {
                        if k == 0 { break }
                        if filled == k {
                            // distance from point i to the nearest face of the searched cube that has
                            // cells beyond it: every unvisited point is at least that far away
                            var bound = Double.infinity
                            if cx - shell > 0 { bound = min(bound, xi - (grid.minX + Double(cx - shell) * size)) }
                            if cx + shell < nx - 1 { bound = min(bound, grid.minX + Double(cx + shell + 1) * size - xi) }
                            if cy - shell > 0 { bound = min(bound, yi - (grid.minY + Double(cy - shell) * size)) }
                            if cy + shell < ny - 1 { bound = min(bound, grid.minY + Double(cy + shell + 1) * size - yi) }
                            if cz - shell > 0 { bound = min(bound, zi - (grid.minZ + Double(cz - shell) * size)) }
                            if cz + shell < nz - 1 { bound = min(bound, grid.minZ + Double(cz + shell + 1) * size - zi) }
                            if bestD[k - 1] < bound { break }
                        }
                    }
                    shell += 1
                }
                if useRadius && !rowJ.isEmpty {
                    // sort the row by j (rows are short: insertion sort)
                    for a in 1..<rowJ.count {
                        let vj = rowJ[a], vd = rowD[a]
                        var b = a
                        while b > 0 && rowJ[b - 1] > vj { rowJ[b] = rowJ[b - 1]; rowD[b] = rowD[b - 1]; b -= 1 }
                        rowJ[b] = vj; rowD[b] = vd
                    }
                    for a in 0..<rowJ.count {
                        result.edges.append(Int32(i))
                        result.edges.append(rowJ[a])
                    }
                    result.edgeDistances.append(contentsOf: rowD)
                }
                if k > 0 {
                    result.indices.withUnsafeMutableBufferPointer { out in
                        for r in 0..<filled { out[i * k + r] = Int32(bestJ[r]) }
                    }
                    result.distances.withUnsafeMutableBufferPointer { out in
                        for r in 0..<filled { out[i * k + r] = bestD[r] }
                    }
                }
            }
        }}}}
        return result
    }

    /// Half-open ranges of the cell-ordered points (growable, reused across points).
    struct RunList {
        private var bounds = UnsafeMutablePointer<Int>.allocate(capacity: 64)
        private var capacity = 32

        @inline(__always) func lower(_ r: Int) -> Int { bounds[2 &* r] }
        @inline(__always) func upper(_ r: Int) -> Int { bounds[2 &* r &+ 1] }

        @inline(__always) mutating func append(_ lo: Int, _ hi: Int, at count: inout Int) {
            guard lo < hi else { return }
            if count == capacity {
                let grown = UnsafeMutablePointer<Int>.allocate(capacity: 4 * capacity)
                grown.update(from: bounds, count: 2 * capacity)
                bounds.deallocate()
                bounds = grown
                capacity *= 2
            }
            bounds[2 &* count] = lo
            bounds[2 &* count &+ 1] = hi
            count &+= 1
        }

        func deallocate() { bounds.deallocate() }
    }
}
