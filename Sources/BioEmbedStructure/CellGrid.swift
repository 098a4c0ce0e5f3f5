/// Points binned into cubic cells (counting sort): `order[cellStart[c] ..< cellStart[c+1]]` are the
/// points of cell c. The cell size grows when the bounding box would need too many cells.
struct CellGrid {
    let nx: Int, ny: Int, nz: Int
    let cellSize: Double
    let minX: Double, minY: Double, minZ: Double
    var cellOf: [Int]
    var cellStart: [Int]
    var order: [Int32]

    init(positions: [Double], cellSize requested: Double) {
        let n = positions.count / 3
        var lo = (Double.infinity, Double.infinity, Double.infinity)
        var hi = (-Double.infinity, -Double.infinity, -Double.infinity)
        for i in 0..<n {
            let x = positions[3 * i], y = positions[3 * i + 1], z = positions[3 * i + 2]
            guard x.isFinite && y.isFinite && z.isFinite else { continue }
            lo = (min(lo.0, x), min(lo.1, y), min(lo.2, z))
            hi = (max(hi.0, x), max(hi.1, y), max(hi.2, z))
        }
        if !lo.0.isFinite { lo = (0, 0, 0); hi = (0, 0, 0) }
        var size = requested
        func dims(_ s: Double) -> (Int, Int, Int) {
            (Int(((hi.0 - lo.0) / s).rounded(.down)) + 1, Int(((hi.1 - lo.1) / s).rounded(.down)) + 1,
             Int(((hi.2 - lo.2) / s).rounded(.down)) + 1)
        }
        var d = dims(size)
        let limit = Double(max(8 * n, 1 << 16))
        while Double(d.0) * Double(d.1) * Double(d.2) > limit {
            size *= 2
            d = dims(size)
        }
        (nx, ny, nz) = d
        cellSize = size
        (minX, minY, minZ) = lo
        cellOf = [Int](repeating: -1, count: n)
        cellStart = [Int](repeating: 0, count: nx * ny * nz + 1)
        for i in 0..<n {
            let x = positions[3 * i], y = positions[3 * i + 1], z = positions[3 * i + 2]
            guard x.isFinite && y.isFinite && z.isFinite else { continue }
            let ix = min(nx - 1, Int((x - lo.0) / size)), iy = min(ny - 1, Int((y - lo.1) / size)), iz = min(nz - 1, Int((z - lo.2) / size))
            let c = (iz * ny + iy) * nx + ix
            cellOf[i] = c
            cellStart[c + 1] += 1
        }
        for c in 0..<(nx * ny * nz) { cellStart[c + 1] += cellStart[c] }
        var fill = cellStart
        order = [Int32](repeating: 0, count: cellStart[nx * ny * nz])
        for i in 0..<n where cellOf[i] >= 0 {
            order[fill[cellOf[i]]] = Int32(i)
            fill[cellOf[i]] += 1
        }
    }

    @inline(__always) func coordinates(_ cell: Int) -> (Int, Int, Int) {
        (cell % nx, (cell / nx) % ny, cell / (nx * ny))
    }

    @inline(__always) func cell(_ x: Int, _ y: Int, _ z: Int) -> Int? {
        guard x >= 0 && x < nx && y >= 0 && y < ny && z >= 0 && z < nz else { return nil }
        return (z * ny + y) * nx + x
    }

    /// Collects into `runs` the point ranges (cell order) of the cells whose Chebyshev distance from
    /// (cx, cy, cz) is exactly `shell`: cells along x are adjacent in the point order, so a face row
    /// is one run. `start` is `cellStart`. Returns the number of runs.
    @inline(__always) func shellRuns(_ cx: Int, _ cy: Int, _ cz: Int, _ shell: Int, start: UnsafeBufferPointer<Int>,
                   into runs: inout ResidueGraphs.RunList) -> Int {
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
        return runCount
    }

    /// The coordinates of the binned points in cell order (`[order.count * 3]`; the caller frees it),
    /// so that the points of a run of cells are contiguous.
    func coordinatesInCellOrder(_ positions: [Double]) -> UnsafeMutablePointer<Double> {
        let sorted = UnsafeMutablePointer<Double>.allocate(capacity: 3 * max(order.count, 1))
        positions.withUnsafeBufferPointer { p in
            for s in 0..<order.count {
                let j = Int(order[s])
                sorted[3 * s] = p[3 * j]; sorted[3 * s + 1] = p[3 * j + 1]; sorted[3 * s + 2] = p[3 * j + 2]
            }
        }
        return sorted
    }

    /// A lower bound on the distance from (x, y, z), in cell (cx, cy, cz), to any point outside the
    /// cells within Chebyshev distance `shell`: the distance to the nearest face of that cube that
    /// has cells beyond it (∞ when the cube covers the grid).
    @inline(__always) func unvisitedBound(_ cx: Int, _ cy: Int, _ cz: Int, _ shell: Int, _ x: Double, _ y: Double, _ z: Double) -> Double {
        var bound = Double.infinity
        if cx - shell > 0 { bound = min(bound, x - (minX + Double(cx - shell) * cellSize)) }
        if cx + shell < nx - 1 { bound = min(bound, minX + Double(cx + shell + 1) * cellSize - x) }
        if cy - shell > 0 { bound = min(bound, y - (minY + Double(cy - shell) * cellSize)) }
        if cy + shell < ny - 1 { bound = min(bound, minY + Double(cy + shell + 1) * cellSize - y) }
        if cz - shell > 0 { bound = min(bound, z - (minZ + Double(cz - shell) * cellSize)) }
        if cz + shell < nz - 1 { bound = min(bound, minZ + Double(cz + shell + 1) * cellSize - z) }
        return bound
    }

    /// The largest shell a search may need (the grid's longest side in cells).
    var maxShell: Int { max(nx, ny, nz) }

    /// `body(order, cellStart, cellOf)` over the tables' storage.
    @inline(__always) func withTables<R>(_ body: (UnsafeBufferPointer<Int32>, UnsafeBufferPointer<Int>, UnsafeBufferPointer<Int>) -> R) -> R {
        order.withUnsafeBufferPointer { o in cellStart.withUnsafeBufferPointer { s in cellOf.withUnsafeBufferPointer { c in body(o, s, c) } } }
    }
}
