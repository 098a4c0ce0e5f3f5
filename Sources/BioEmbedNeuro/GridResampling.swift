/// Nearest-neighbour resampling of a label volume onto another voxel grid, as nilearn's
/// `resample_to_img(..., interpolation="nearest")` does it through `scipy.ndimage.affine_transform`
/// (order 0, constant 0 outside): each target voxel `o` reads the source voxel nearest to
/// `inv(A_source)·A_target·o`.
public enum GridResampling {
    /// Whether two grids are the same (shapes equal, affines `np.allclose`).
    public static func sameGrid(_ a: NIfTIHeader, _ b: NIfTIHeader) -> Bool {
        guard a.gridShape == b.gridShape else { return false }
        let (x, y) = (a.affine, b.affine)
        for i in 0..<4 { for j in 0..<4 where abs(x[i][j] - y[i][j]) > 1e-8 + 1e-5 * abs(y[i][j]) { return false } }
        return true
    }

    /// Label values of `source` (data `[voxels]`, x fastest) sampled on `target`'s grid.
    ///
    /// - Complexity: O(target voxels).
    public static func nearest(_ data: [Double], source: NIfTIHeader, target: NIfTIHeader) -> [Double] {
        let m = matmul4(invert4(source.affine), target.affine)
        let s = source.gridShape, t = target.gridShape
        var out = [Double](repeating: 0, count: t[0] * t[1] * t[2])
        // Source index along one axis for target (i, j, k), or -1 outside (scipy, mode "constant":
        // no value beyond the outermost sample centres).
        @inline(__always) func index(_ r: Int, _ i: Double, _ j: Double, _ k: Double) -> Int {
            let c = m[r][0] * i + m[r][1] * j + m[r][2] * k + m[r][3]
            guard c >= -1e-6 && c <= Double(s[r] - 1) + 1e-6 else { return -1 }
            return min(max(Int((c + 0.5).rounded(.down)), 0), s[r] - 1)
        }
        data.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for k in 0..<t[2] {
                    for j in 0..<t[1] {
                        for i in 0..<t[0] {
                            let (x, y, z) = (Double(i), Double(j), Double(k))
                            let a = index(0, x, y, z)
                            if a < 0 { continue }
                            let b = index(1, x, y, z)
                            if b < 0 { continue }
                            let c = index(2, x, y, z)
                            if c < 0 { continue }
                            dst[i + t[0] * (j + t[1] * k)] = src[a + s[0] * (b + s[1] * c)]
                        }
                    }
                }
            }
        }
        return out
    }

    static func matmul4(_ a: [[Double]], _ b: [[Double]]) -> [[Double]] {
        (0..<4).map { i in (0..<4).map { j in (0..<4).reduce(0) { $0 + a[i][$1] * b[$1][j] } } }
    }

    /// Inverse of an affine 4×4 (last row 0 0 0 1) by cofactors of the 3×3 block.
    static func invert4(_ a: [[Double]]) -> [[Double]] {
        let m = a
        let det = m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1])
            - m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0])
            + m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0])
        var inv = [[Double]](repeating: [0, 0, 0, 0], count: 4)
        inv[0][0] = (m[1][1] * m[2][2] - m[1][2] * m[2][1]) / det
        inv[0][1] = (m[0][2] * m[2][1] - m[0][1] * m[2][2]) / det
        inv[0][2] = (m[0][1] * m[1][2] - m[0][2] * m[1][1]) / det
        inv[1][0] = (m[1][2] * m[2][0] - m[1][0] * m[2][2]) / det
        inv[1][1] = (m[0][0] * m[2][2] - m[0][2] * m[2][0]) / det
        inv[1][2] = (m[0][2] * m[1][0] - m[0][0] * m[1][2]) / det
        inv[2][0] = (m[1][0] * m[2][1] - m[1][1] * m[2][0]) / det
        inv[2][1] = (m[0][1] * m[2][0] - m[0][0] * m[2][1]) / det
        inv[2][2] = (m[0][0] * m[1][1] - m[0][1] * m[1][0]) / det
        for i in 0..<3 { inv[i][3] = -(inv[i][0] * m[0][3] + inv[i][1] * m[1][3] + inv[i][2] * m[2][3]) }
        inv[3] = [0, 0, 0, 1]
        return inv
    }
}
