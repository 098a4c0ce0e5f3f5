/// Cα residue graphs over a uniform cell grid (no all-pairs loop).
///
/// - `radius`: undirected pairs (i < j) with ‖p_i − p_j‖ ≤ cutoff (the boundary counts), sorted by
///   (i, j), with their distances. Cell size = cutoff, 27 neighbouring cells per point.
/// - `knn`: per point the k nearest other points, nearest first, ties broken by the lower index;
///   −1 pads rows when fewer than k others exist. Cells are searched in growing cubic shells until
///   the k-th distance is strictly inside the searched cube, so the result equals a full sort.
/// Positions are `[n*3]` Å; points with a NaN coordinate are never neighbours. Cost: O(n + edges)
/// for the radius graph at protein densities, O(n·k log k) for kNN.
public enum ResidueGraphs {
    /// Radius graph: `edges` `[E*2]` (i, j) and `distances` `[E]`.
    public static func radius(positions: [Double], cutoff: Double) -> (edges: [Int32], distances: [Double]) {
        let n = positions.count / 3
        guard n > 1, cutoff > 0, cutoff.isFinite else { return ([], []) }
        let grid = CellGrid(positions: positions, cellSize: cutoff)
        var edges: [Int32] = []
        var distances: [Double] = []
        var row: [(Int, Double)] = []
        positions.withUnsafeBufferPointer { p in
            for i in 0..<n where grid.cellOf[i] >= 0 {
                row.removeAll(keepingCapacity: true)
                let (cx, cy, cz) = grid.coordinates(grid.cellOf[i])
                for dz in -1...1 { for dy in -1...1 { for dx in -1...1 {
                    guard let cell = grid.cell(cx + dx, cy + dy, cz + dz) else { continue }
                    for k in grid.cellStart[cell] ..< grid.cellStart[cell + 1] {
                        let j = Int(grid.order[k])
                        guard j > i else { continue }
                        let ddx = p[3 * i] - p[3 * j], ddy = p[3 * i + 1] - p[3 * j + 1], ddz = p[3 * i + 2] - p[3 * j + 2]
                        let d = (ddx * ddx + ddy * ddy + ddz * ddz).squareRoot()
                        if d <= cutoff { row.append((j, d)) }
                    }
                }}}
                row.sort { $0.0 < $1.0 }
                for (j, d) in row {
                    edges.append(Int32(i))
                    edges.append(Int32(j))
                    distances.append(d)
                }
            }
        }
        return (edges, distances)
    }

    /// k nearest neighbours: `indices` and `distances` `[n*k]` (−1 / NaN padding).
    /// `cellSize` (Å) only changes the speed, never the result.
    public static func knn(positions: [Double], k: Int, cellSize: Double = 8) -> (indices: [Int32], distances: [Double]) {
        let n = positions.count / 3
        guard k > 0 else { return ([], []) }
        var indices = [Int32](repeating: -1, count: n * k)
        var distances = [Double](repeating: .nan, count: n * k)
        guard n > 1 else { return (indices, distances) }
        let grid = CellGrid(positions: positions, cellSize: cellSize)
        // the best `k` so far, sorted by (distance, index); `filled` of them are valid
        var bestD = [Double](repeating: .infinity, count: k)
        var bestJ = [Int](repeating: Int.max, count: k)
        positions.withUnsafeBufferPointer { p in
        bestD.withUnsafeMutableBufferPointer { bd in
        bestJ.withUnsafeMutableBufferPointer { bj in
            for i in 0..<n where grid.cellOf[i] >= 0 {
                let (cx, cy, cz) = grid.coordinates(grid.cellOf[i])
                for r in 0..<k { bd[r] = .infinity; bj[r] = Int.max }
                var filled = 0
                var shell = 0
                let maxShell = max(grid.nx, grid.ny, grid.nz)
                let xi = p[3 * i], yi = p[3 * i + 1], zi = p[3 * i + 2]
                while true {
                    // cells whose Chebyshev distance from (cx, cy, cz) is exactly `shell`
                    for dz in -shell...shell {
                        let z = cz + dz
                        guard z >= 0 && z < grid.nz else { continue }
                        for dy in -shell...shell {
                            let y = cy + dy
                            guard y >= 0 && y < grid.ny else { continue }
                            let onFace = abs(dz) == shell || abs(dy) == shell
                            var dx = -shell
                            while dx <= shell {
                                let x = cx + dx
                                let step = onFace || dx == shell ? 1 : 2 * shell
                                defer { dx += step }
                                guard x >= 0 && x < grid.nx else { continue }
                                let cell = (z * grid.ny + y) * grid.nx + x
                                for m in grid.cellStart[cell] ..< grid.cellStart[cell + 1] {
                                    let j = Int(grid.order[m])
                                    if j == i { continue }
                                    let ddx = xi - p[3 * j], ddy = yi - p[3 * j + 1], ddz = zi - p[3 * j + 2]
                                    let d = (ddx * ddx + ddy * ddy + ddz * ddz).squareRoot()
                                    // insert into the sorted top-k when it beats the worst kept
                                    if d < bd[k - 1] || (d == bd[k - 1] && j < bj[k - 1]) {
                                        var pos = k - 1
                                        while pos > 0 && (d < bd[pos - 1] || (d == bd[pos - 1] && j < bj[pos - 1])) {
                                            bd[pos] = bd[pos - 1]
                                            bj[pos] = bj[pos - 1]
                                            pos -= 1
                                        }
                                        bd[pos] = d
                                        bj[pos] = j
                                        if filled < k { filled += 1 }
                                    }
                                }
                            }
                        }
                    }
                    if shell >= maxShell { break }
                    if filled == k {
                        // distance from point i to the nearest face of the searched cube that has
                        // cells beyond it: every unvisited point is at least that far away
                        var bound = Double.infinity
                        let size = grid.cellSize
                        if cx - shell > 0 { bound = min(bound, xi - (grid.minX + Double(cx - shell) * size)) }
                        if cx + shell < grid.nx - 1 { bound = min(bound, grid.minX + Double(cx + shell + 1) * size - xi) }
                        if cy - shell > 0 { bound = min(bound, yi - (grid.minY + Double(cy - shell) * size)) }
                        if cy + shell < grid.ny - 1 { bound = min(bound, grid.minY + Double(cy + shell + 1) * size - yi) }
                        if cz - shell > 0 { bound = min(bound, zi - (grid.minZ + Double(cz - shell) * size)) }
                        if cz + shell < grid.nz - 1 { bound = min(bound, grid.minZ + Double(cz + shell + 1) * size - zi) }
                        if bd[k - 1] < bound { break }
                    }
                    shell += 1
                }
                for r in 0..<filled {
                    indices[i * k + r] = Int32(bj[r])
                    distances[i * k + r] = bd[r]
                }
            }
        }}}
        return (indices, distances)
    }
}
