/// Fixed-radius neighbour search over 3D points with a uniform grid (cell edge = cutoff).
enum NeighbourGrid {
    /// Every point's neighbours as one flat table: those of point `a` are
    /// `index[start[a] ..< start[a + 1]]` (increasing index) with their `distance`.
    struct Table {
        var start: [Int]
        var index: [Int32] = []
        var distance: [Double] = []
    }

    /// For each point, the other points within `cutoff` (inclusive) and their distances, in
    /// increasing index order. Distances are computed as scipy's `pdist` does:
    /// `sqrt(Σ (u_k − v_k)²)` over x, y, z in order. O(n · neighbours) for n > 48, else O(n²).
    static func pairs(_ xyz: [Double], count n: Int, cutoff: Double) -> Table {
        var table = Table(start: [Int](repeating: 0, count: n + 1))
        @inline(__always) func distance(_ a: Int, _ b: Int) -> Double {
            let dx = xyz[3 * a] - xyz[3 * b]
            let dy = xyz[3 * a + 1] - xyz[3 * b + 1]
            let dz = xyz[3 * a + 2] - xyz[3 * b + 2]
            var s = dx * dx
            s += dy * dy
            s += dz * dz
            return s.squareRoot()
        }
        if n <= 48 || !(cutoff > 0) || !cutoff.isFinite {
            table.index.reserveCapacity(n * min(n, 32))
            table.distance.reserveCapacity(n * min(n, 32))
            for a in 0..<n {
                for b in 0..<n where b != a {
                    let d = distance(a, b)
                    if d <= cutoff { table.index.append(Int32(b)); table.distance.append(d) }
                }
                table.start[a + 1] = table.index.count
            }
            return table
        }
        var low = (xyz[0], xyz[1], xyz[2])
        for k in 0..<n {
            low.0 = min(low.0, xyz[3 * k])
            low.1 = min(low.1, xyz[3 * k + 1])
            low.2 = min(low.2, xyz[3 * k + 2])
        }
        var cells: [SIMD3<Int32>: [Int]] = [:]
        var cellOf = [SIMD3<Int32>](repeating: .zero, count: n)
        for k in 0..<n {
            let c = SIMD3<Int32>(
                Int32(((xyz[3 * k] - low.0) / cutoff).rounded(.down)),
                Int32(((xyz[3 * k + 1] - low.1) / cutoff).rounded(.down)),
                Int32(((xyz[3 * k + 2] - low.2) / cutoff).rounded(.down)))
            cellOf[k] = c
            cells[c, default: []].append(k)
        }
        var row: [(Int, Double)] = []
        for a in 0..<n {
            row.removeAll(keepingCapacity: true)
            let c = cellOf[a]
            for dx: Int32 in -1...1 {
                for dy: Int32 in -1...1 {
                    for dz: Int32 in -1...1 {
                        guard let members = cells[c &+ SIMD3(dx, dy, dz)] else { continue }
                        for b in members where b != a {
                            let d = distance(a, b)
                            if d <= cutoff { row.append((b, d)) }
                        }
                    }
                }
            }
            row.sort { $0.0 < $1.0 }
            for (b, d) in row { table.index.append(Int32(b)); table.distance.append(d) }
            table.start[a + 1] = table.index.count
        }
        return table
    }
}
