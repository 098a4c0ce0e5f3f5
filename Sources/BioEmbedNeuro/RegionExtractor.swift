import BioEmbedCore
import BioEmbedLinalg
import Foundation

/// Region time series from a 4D BOLD file, streamed one volume at a time.
///
/// - Labels (`NiftiLabelsMasker`, strategy "mean"): the mean of the voxels of each label per
///   volume, columns in sorted label order; the atlas is resampled to the data grid (nearest) when
///   the grids differ. A label with no voxel on the data grid gives a NaN column and a warning
///   (nilearn drops it; BioEmbed keeps the columns of `/fmri/region_ids` aligned).
/// - Maps (`NiftiMapsMasker`): least squares `B = (MᵀM)⁻¹MᵀY` over all voxels, per volume.
/// - NaN and ±Inf voxel values (and map weights) count as 0, as nilearn's maskers replace them
///   (`ensure_finite`), with one warning per file saying how many there were.
///
/// Memory: one volume of `Double`s plus the `[T, R]` result; the 4D image is never held whole.
public enum RegionExtractor {
    /// `[T, R]` mean signals per label, plus the BOLD header.
    ///
    /// - Throws: `NeuroError` for a 3D BOLD file, a truncated file, or an atlas that covers no voxel
    ///   of the data grid.
    public static func labels(bold path: String, atlas: LabelAtlas, mask: LabelAtlas? = nil) throws(NeuroError) -> (signals: Matrix<Double>, header: NIfTIHeader) {
        let reader = try NIfTIReader(path)
        let header = reader.header
        try require4D(header, path)
        var columns = atlas.columnIndex(on: header)
        if let mask {
            // the mask on the data grid (nearest neighbour, as the atlas): voxels outside are dropped
            let inside = mask.columnIndex(on: header)
            for v in columns.indices where inside[v] < 0 { columns[v] = -1 }
        }
        let r = atlas.regionIDs.count
        var voxels: [Int32] = []
        var targets: [Int32] = []
        var counts = [Double](repeating: 0, count: r)
        for (v, c) in columns.enumerated() where c >= 0 {
            voxels.append(Int32(v))
            targets.append(c)
            counts[Int(c)] += 1
        }
        guard !voxels.isEmpty else {
            throw .invalidInput(file: path, expected: "a data grid that overlaps the atlas \(atlas.file)", found: "no labelled voxel on the data grid (shape \(header.gridShape))")
        }
        let missing = (0..<r).filter { counts[$0] == 0 }.map { atlas.regionIDs[$0] }
        if !missing.isEmpty {
            Diagnostics.warning("\(path): labels \(missing.prefix(10).map(String.init).joined(separator: ", ")) of \(atlas.file) have no voxel on the data grid; their columns are NaN")
        }
        let t = header.volumeCount
        var out = Matrix<Double>(rows: t, columns: r)
        var sums = [Double](repeating: 0, count: r)
        let type = header.storage ?? .float64
        let (slope, inter) = reader.scaling
        var nonFinite = NonFiniteCount()
        for step in 0..<t {
            let raw = try reader.readRawVolume()
            let replaced = voxels.withUnsafeBufferPointer { vx in
                targets.withUnsafeBufferPointer { tg in
                    sums.withUnsafeMutableBufferPointer { s in
                        for j in 0..<r { s[j] = 0 }
                        return NIfTIConversion.accumulate(raw, type: type, swap: reader.swapped, slope: slope, inter: inter, voxels: vx, targets: tg, sums: s)
                    }
                }
            }
            nonFinite.add(replaced, volume: step)
            for j in 0..<r { out.storage[step * r + j] = counts[j] > 0 ? sums[j] / counts[j] : .nan }
        }
        nonFinite.warn(path, "voxel values inside the atlas")
        return (out, header)
    }

    /// `[T, K]` least-squares map signals over all voxels (maps on the data grid).
    public static func maps(bold path: String, maps mapsPath: String) throws(NeuroError) -> (signals: Matrix<Double>, header: NIfTIHeader) {
        let (mapHeader, weightsRead) = try NIfTIReader.readAll(mapsPath)
        var mapData = weightsRead
        let reader = try NIfTIReader(path)
        let header = reader.header
        try require4D(header, path)
        guard GridResampling.sameGrid(mapHeader, header) else {
            throw .invalidInput(file: mapsPath, expected: "maps on the data grid of \(path) (shape \(header.gridShape))", found: "shape \(mapHeader.gridShape) or another affine (resample the maps first)")
        }
        let k = mapHeader.volumeCount, v = header.voxelsPerVolume, t = header.volumeCount
        var weights = NonFiniteCount()
        for map in 0..<k { weights.add(zeroNonFinite(&mapData, map * v ..< (map + 1) * v), volume: map) }
        weights.warn(mapsPath, "map weights")
        let m = Matrix<Double>(rows: k, columns: v, storage: mapData)
        let gram = LinearAlgebra.gram(m, transpose: false)  // K×K = M·Mᵀ
        var projections = Matrix<Double>(rows: k, columns: t)  // Mᵀy per volume, as columns
        var volume = [Double](repeating: 0, count: v)
        var nonFinite = NonFiniteCount()
        for step in 0..<t {
            try reader.readVolume(into: &volume)
            nonFinite.add(zeroNonFinite(&volume, volume.indices), volume: step)
            let p = try! LinearAlgebra.matvec(m, volume)
            for j in 0..<k { projections.storage[j * t + step] = p[j] }
        }
        nonFinite.warn(path, "voxel values")
        let solved: Matrix<Double>
        do { solved = try LinearAlgebra.solve(gram, projections) } catch {
            throw .numerical(file: mapsPath, operation: "least squares on the maps", detail: "the maps are linearly dependent (\(error))")
        }
        return (solved.transposed, header)
    }

    /// Sets NaN and ±Inf values of `values[range]` to 0 (nilearn's `ensure_finite_data`); returns
    /// how many there were.
    static func zeroNonFinite(_ values: inout [Double], _ range: Range<Int>) -> Int {
        var count = 0
        for i in range where !values[i].isFinite {
            values[i] = 0
            count += 1
        }
        return count
    }

    /// Non-finite values met in a file, reported once as nilearn warns ("Non-finite values detected.
    /// These values will be replaced with zeros.").
    struct NonFiniteCount {
        private(set) var values = 0, volumes = 0, first = -1

        mutating func add(_ count: Int, volume: Int) {
            guard count > 0 else { return }
            values += count
            volumes += 1
            if first < 0 { first = volume }
        }

        func warn(_ path: String, _ what: String) {
            guard values > 0 else { return }
            Diagnostics.warning("\(path): \(values) non-finite \(what) (NaN or Inf, in \(volumes) volume(s) from volume \(first)) replaced with 0, as nilearn's maskers do")
        }
    }

    static func require4D(_ header: NIfTIHeader, _ path: String) throws(NeuroError) {
        guard header.shape.count >= 4, header.volumeCount >= 2 else {
            throw .invalidInput(file: path, expected: "a 4D BOLD image (x, y, z, time)", found: "a \(header.shape.count == 3 || header.volumeCount == 1 ? "3D" : "\(header.shape.count)D") image of shape \(header.shape)")
        }
        guard header.shape.count <= 4 || header.shape.dropFirst(4).allSatisfy({ $0 == 1 }) else {
            throw .invalidInput(file: path, expected: "a 4D BOLD image", found: "shape \(header.shape)")
        }
    }
}
