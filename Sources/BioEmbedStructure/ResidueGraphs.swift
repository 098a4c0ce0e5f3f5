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
        let r = search(positions: positions, cutoff: useRadius ? cutoff : 0, k: max(k, 0), cellSize: useRadius ? cutoff : 8, distances: false)
        return (r.edges, r.indices)
    }

    /// An upper bound on the radius graph's edge count, in O(n + cells) without computing a
    /// distance: Σ over cells of (points in the cell × points in it and its 26 neighbours) / 2.
    /// At protein densities it is a few hundred per point; coincident or crowded atoms (a hostile
    /// or broken file) make it quadratic, which lets a caller refuse before allocating.
    public static func edgeBound(positions: [Double], cutoff: Double) -> Int {
        guard cutoff > 0, cutoff.isFinite, positions.count >= 6 else { return 0 }
        let grid = CellGrid(positions: positions, cellSize: cutoff)
        var total = 0
        for cell in 0..<(grid.cellStart.count - 1) {
            let own = grid.cellStart[cell + 1] - grid.cellStart[cell]
            guard own > 0 else { continue }
            let (cx, cy, cz) = grid.coordinates(cell)
            var around = 0
            for dz in -1...1 { for dy in -1...1 { for dx in -1...1 {
                if let other = grid.cell(cx + dx, cy + dy, cz + dz) { around += grid.cellStart[other + 1] - grid.cellStart[other] }
            } } }
            total = total.addingReportingOverflow(own.multipliedReportingOverflow(by: around).partialValue).partialValue
        }
        return total / 2
    }

    /// The nearest other point of every point (−1 when there is none or the point has a NaN
    /// coordinate), ties to the lower index: `knn(k: 1)` without the distances, with a search
    /// specialised for one neighbour (cubic shells of cells until the best distance is inside the
    /// searched cube).
    public static func nearest(positions: [Double], cellSize: Double) -> [Int32] {
        let n = positions.count / 3
        var result = [Int32](repeating: -1, count: n)
        guard n > 1 else { return result }
        let grid = CellGrid(positions: positions, cellSize: cellSize)
        let sorted = grid.coordinatesInCellOrder(positions)
        var runs = RunList()
        defer { sorted.deallocate(); runs.deallocate() }
        result.withUnsafeMutableBufferPointer { out in
        positions.withUnsafeBufferPointer { p in
        grid.withTables { order, start, cellOf in
            let maxShell = grid.maxShell
            for i in 0..<n where cellOf[i] >= 0 {
                let (cx, cy, cz) = grid.coordinates(cellOf[i])
                let xi = p[3 * i], yi = p[3 * i + 1], zi = p[3 * i + 2]
                var best = Double.infinity, bestJ = -1
                var limit = Double.infinity   // squared-distance bound for a candidate (with the margin)
                var shell = 0
                while true {
                    let runCount = grid.shellRuns(cx, cy, cz, shell, start: start, into: &runs)
                    forEachPoint(runs, runCount, sorted, xi, yi, zi) { s, d2 in
                        guard d2 <= limit else { return }
                        let j = Int(order[s])
                        let d = d2.squareRoot()
                        if j != i && (d < best || (d == best && j < bestJ)) {
                            best = d; bestJ = j
                            limit = d2 * (1 + margin)
                        }
                    }
                    if shell >= maxShell { break }
                    if bestJ >= 0 {
                        // every unvisited point is at least as far as the nearest face of the
                        // searched cube that has cells beyond it
                        if best < grid.unvisitedBound(cx, cy, cz, shell, xi, yi, zi) { break }
                    }
                    shell += 1
                }
                out[i] = Int32(truncatingIfNeeded: bestJ)
            }
        }}}
        return result
    }

    /// Relative margin under which squared distances cannot decide a comparison of their square
    /// roots (a handful of ulps); such candidates are compared by `sqrt`.
    static let margin = 1e-14

    struct SearchResult {
        var edges: [Int32] = [], edgeDistances: [Double] = []
        var indices: [Int32] = [], distances: [Double] = []
    }

    /// The shared search: radius edges (when `cutoff` > 0) and the kNN table (when `k` > 0).
    ///
    /// With a cutoff, each point scans the 27 cells around it (cell ≥ cutoff) once and keeps every
    /// other point within the cutoff: its radius row is those with j > i, and when there are at least
    /// k of them its kNN row is their k smallest (nothing outside the cutoff can beat or tie them).
    /// Points with fewer than k neighbours within the cutoff, and kNN without a cutoff, search cubic
    /// shells of cells until the k-th distance is inside the searched cube. `distances: false`
    /// leaves `edgeDistances` and `distances` empty (callers that need only the indices).
    static func search(positions: [Double], cutoff: Double, k: Int, cellSize requested: Double, distances wantDistances: Bool = true) -> SearchResult {
        let n = positions.count / 3
        var result = SearchResult()
        if k > 0 {
            result.indices = [Int32](repeating: -1, count: n * k)
            if wantDistances { result.distances = [Double](repeating: .nan, count: n * k) }
        }
        guard n > 1 else { return result }
        let useRadius = cutoff > 0
        let grid = CellGrid(positions: positions, cellSize: useRadius ? max(requested, cutoff) : requested)
        let cutoffLow = cutoff * cutoff * (1 - margin), cutoffHigh = cutoff * cutoff * (1 + margin)
        // coordinates in cell order, so that a cell's points are contiguous
        let sorted = grid.coordinatesInCellOrder(positions)
        // the neighbours within the cutoff of one point (at most n − 1), then all edges
        let nearJ = UnsafeMutablePointer<Int32>.allocate(capacity: n), nearD = UnsafeMutablePointer<Double>.allocate(capacity: n)
        // the other points of those cells (their squared distances), for points with few neighbours
        let farS = UnsafeMutablePointer<Int32>.allocate(capacity: n), farD2 = UnsafeMutablePointer<Double>.allocate(capacity: n)
        let nearS = UnsafeMutablePointer<Int32>.allocate(capacity: n)
        var farCount = 0
        let rowJ = UnsafeMutablePointer<Int32>.allocate(capacity: n), rowD = UnsafeMutablePointer<Double>.allocate(capacity: n)
        var edges = GrowableBuffer<Int32>(), edgeDistances = GrowableBuffer<Double>()
        var top = TopK(k: max(k, 1))
        var runs = RunList()
        defer {
            sorted.deallocate(); nearJ.deallocate(); nearD.deallocate(); rowJ.deallocate(); rowD.deallocate()
            farS.deallocate(); farD2.deallocate(); nearS.deallocate()
            top.deallocate(); runs.deallocate()
        }
        positions.withUnsafeBufferPointer { p in
        grid.withTables { order, start, cellOf in
            let maxShell = grid.maxShell
            for i in 0..<n where cellOf[i] >= 0 {
                let (cx, cy, cz) = grid.coordinates(cellOf[i])
                let xi = p[3 * i], yi = p[3 * i + 1], zi = p[3 * i + 2]
                top.reset()
                var knnDone = k == 0
                var firstShell = 0   // shells below it are already in `top`
                if useRadius {
                    // every other point within the cutoff, from the 27 cells around i: candidates
                    // are sorted into "within the cutoff (with a margin)" and "the others" without
                    // a branch (which would mispredict), the others kept in case fewer than k are
                    // within the cutoff (then no second scan is needed)
                    var nearCount = 0
                    farCount = 0
                    for shell in 0...1 {
                        let runCount = grid.shellRuns(cx, cy, cz, shell, start: start, into: &runs)
                        forEachPoint(runs, runCount, sorted, xi, yi, zi) { s, d2 in
                            let near = d2 <= cutoffHigh
                            let slot = Int32(truncatingIfNeeded: s)
                            nearS[nearCount] = slot; nearD[nearCount] = d2
                            farS[farCount] = slot; farD2[farCount] = d2
                            nearCount &+= near ? 1 : 0
                            farCount &+= near ? 0 : 1
                        }
                    }
                    // the exact test, sqrt(d²) ≤ cutoff; the point itself drops out, and the few
                    // within the margin but beyond the cutoff join the others
                    var kept = 0
                    for a in 0..<nearCount {
                        let d2 = nearD[a]
                        let j = order[Int(nearS[a])]
                        guard Int(j) != i else { continue }
                        let d = d2.squareRoot()
                        if d2 < cutoffLow || d <= cutoff {
                            nearJ[kept] = j
                            nearD[kept] = d
                            kept += 1
                        } else {
                            farS[farCount] = nearS[a]
                            farD2[farCount] = d2
                            farCount += 1
                        }
                    }
                    nearCount = kept
                    // radius row: j > i, sorted by j (rows are short: insertion sort)
                    var rowCount = 0
                    for a in 0..<nearCount where Int(nearJ[a]) > i {
                        let vj = nearJ[a], vd = nearD[a]
                        var b = rowCount
                        while b > 0 && rowJ[b - 1] > vj { rowJ[b] = rowJ[b - 1]; rowD[b] = rowD[b - 1]; b -= 1 }
                        rowJ[b] = vj; rowD[b] = vd
                        rowCount += 1
                    }
                    for a in 0..<rowCount {
                        edges.append(Int32(i))
                        edges.append(rowJ[a])
                        if wantDistances { edgeDistances.append(rowD[a]) }
                    }
                    if k > 0 {
                        for a in 0..<nearCount { top.insert(nearD[a], Int(nearJ[a])) }
                        if nearCount >= k {
                            knnDone = true
                        } else {
                            // the rest of the 27 cells, then larger shells if needed
                            for a in 0..<farCount where farD2[a] <= top.limit {
                                top.insert(farD2[a].squareRoot(), Int(order[Int(farS[a])]))
                            }
                            firstShell = 1
                        }
                    }
                }
                if !knnDone {
                    var shell = firstShell
                    var scanned = firstShell > 0   // shell `firstShell` is in `top` already
                    while true {
                        if !scanned {
                            let runCount = grid.shellRuns(cx, cy, cz, shell, start: start, into: &runs)
                            forEachPoint(runs, runCount, sorted, xi, yi, zi) { s, d2 in
                                let j = Int(order[s])
                                guard d2 <= top.limit, j != i else { return }
                                top.insert(d2.squareRoot(), j)
                            }
                        }
                        scanned = false
                        if shell >= maxShell { break }
                        if top.filled == k {
                            // distance from point i to the nearest face of the searched cube that has
                            // cells beyond it: every unvisited point is at least that far away
                            if top.worst < grid.unvisitedBound(cx, cy, cz, shell, xi, yi, zi) { break }
                        }
                        shell += 1
                    }
                }
                if k > 0 {
                    let filled = top.filled
                    result.indices.withUnsafeMutableBufferPointer { out in
                        for r in 0..<filled { out[i * k + r] = Int32(top.index(r)) }
                    }
                    if wantDistances {
                        result.distances.withUnsafeMutableBufferPointer { out in
                            for r in 0..<filled { out[i * k + r] = top.distance(r) }
                        }
                    }
                }
            }
        }}
        if useRadius {
            result.edges = edges.array
            result.edgeDistances = edgeDistances.array
        }
        return result
    }

    /// Calls `visit(s, d²)` for every point `s` (cell order) of the first `runCount` runs of
    /// `runs` (from `CellGrid.shellRuns`), d² its squared distance from (xi, yi, zi); `sorted`
    /// holds the coordinates in cell order.
    @inline(__always) static func forEachPoint(
        _ runs: RunList, _ runCount: Int, _ sorted: UnsafeMutablePointer<Double>, _ xi: Double, _ yi: Double, _ zi: Double,
        _ visit: (Int, Double) -> Void
    ) {
        for run in 0..<runCount {
            var s = runs.lower(run)
            let end = runs.upper(run)
            while s < end {
                let ddx = xi - sorted[3 &* s], ddy = yi - sorted[3 &* s &+ 1], ddz = zi - sorted[3 &* s &+ 2]
                visit(s, ddx * ddx + ddy * ddy + ddz * ddz)
                s &+= 1
            }
        }
    }

    /// The k best (distance, index) pairs so far, sorted ascending; ties go to the lower index.
    struct TopK {
        let k: Int
        private let d: UnsafeMutablePointer<Double>
        private let j: UnsafeMutablePointer<Int>
        private(set) var filled = 0
        /// Squared-distance bound for entering (with a margin of a few ulps; ∞ until full).
        private(set) var limit = Double.infinity

        init(k: Int) {
            self.k = k
            d = .allocate(capacity: k)
            j = .allocate(capacity: k)
        }

        mutating func reset() { filled = 0; limit = .infinity }
        var worst: Double { d[k - 1] }
        func index(_ r: Int) -> Int { j[r] }
        func distance(_ r: Int) -> Double { d[r] }

        @inline(__always) mutating func insert(_ dist: Double, _ index: Int) {
            if filled == k && !(dist < d[k - 1] || (dist == d[k - 1] && index < j[k - 1])) { return }
            var pos = filled < k ? filled : k - 1
            while pos > 0 && (dist < d[pos - 1] || (dist == d[pos - 1] && index < j[pos - 1])) {
                d[pos] = d[pos - 1]
                j[pos] = j[pos - 1]
                pos -= 1
            }
            d[pos] = dist
            j[pos] = index
            if filled < k { filled += 1 }
            if filled == k { limit = d[k - 1] * d[k - 1] * (1 + margin) }
        }

        func deallocate() { d.deallocate(); j.deallocate() }
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
