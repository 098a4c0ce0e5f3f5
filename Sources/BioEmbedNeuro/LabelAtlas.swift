import BioEmbedCore
import Foundation

/// A label image (0 = background) and its sorted region values: the `labels_img` of nilearn's
/// `NiftiLabelsMasker`.
public struct LabelAtlas: Sendable {
    public let file: String
    public let header: NIfTIHeader
    /// Label value per voxel (x fastest), rounded to integers.
    public let labels: [Int64]
    /// Sorted distinct non-background values: the output columns.
    public let regionIDs: [Int64]

    /// Reads a 3D label image (a 4D one with a single volume is accepted).
    ///
    /// - Throws: `NeuroError.invalidInput` for a 4D image, non-integer labels or no labels at all;
    ///   NaN and ±Inf voxels are background (nilearn replaces them with 0), with a warning.
    public init(_ path: String) throws(NeuroError) {
        let (header, data) = try NIfTIReader.readAll(path)
        guard header.volumeCount == 1 else {
            throw .invalidInput(file: path, expected: "a 3D label image", found: "\(header.volumeCount) volumes (a probabilistic atlas? use the maps masker)")
        }
        var labels = [Int64](repeating: 0, count: data.count)
        var nonFinite = 0
        for (i, v) in data.enumerated() {
            guard v.isFinite else {
                nonFinite += 1   // background, as nilearn's ensure_finite makes it 0
                continue
            }
            guard v == v.rounded(), v.magnitude < 0x1p62 else {
                throw .invalidInput(file: path, expected: "integer label values", found: "\(v) at voxel \(i)")
            }
            labels[i] = Int64(v)
        }
        if nonFinite > 0 {
            Diagnostics.warning("\(path): \(nonFinite) non-finite label values (NaN or Inf) read as background (0), as nilearn does")
        }
        let ids = Set(labels).subtracting([0]).sorted()
        guard !ids.isEmpty else { throw .invalidInput(file: path, expected: "at least one non-zero label", found: "only background") }
        self.file = path
        self.header = header
        self.labels = labels
        self.regionIDs = ids
    }

    /// Column index (into `regionIDs`) per voxel of the `target` grid, -1 for background;
    /// labels resampled by nearest neighbour when the grids differ.
    public func columnIndex(on target: NIfTIHeader) -> [Int32] {
        var positions: [Int64: Int32] = [:]
        for (i, id) in regionIDs.enumerated() { positions[id] = Int32(i) }
        let values: [Int64]
        if GridResampling.sameGrid(header, target) {
            values = labels
        } else {
            values = GridResampling.nearest(labels.map(Double.init), source: header, target: target).map { Int64($0) }
        }
        return values.map { positions[$0] ?? -1 }
    }
}
