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
}
