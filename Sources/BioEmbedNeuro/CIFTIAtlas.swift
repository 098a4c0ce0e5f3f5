import BioEmbedCore
import Foundation

/// A grayordinate parcellation in a CIFTI-2 label file (`.dlabel.nii`): the label key of each
/// grayordinate in its first map (0 = background, as Workbench's `???`). Columns are the sorted
/// distinct non-zero keys. A time series is matched to it grayordinate by grayordinate — surface
/// vertices by structure and vertex index, voxels by `ijk` in the same volume — so a dense time
/// series (91,282 grayordinates) and a cortex-only atlas (59,412) work together.
public struct CIFTIAtlas: Sendable {
    public let file: String
    public let regionIDs: [Int64]
    /// Label key per grayordinate of the label file.
    let keys: [Int64]
    let models: [CIFTIFile.BrainModel]
    let volume: CIFTIFile.Volume?

    /// A grayordinate, as two CIFTI files can share it.
    enum Grayordinate: Hashable {
        case vertex(structure: String, index: Int)
        case voxel(SIMD3<Int>)
    }

    public init(_ path: String) throws(NeuroError) {
        let cifti = try CIFTIFile(path)
        guard case let .labels(maps) = cifti.rowKind else {
            throw .invalidInput(file: path, expected: "a CIFTI-2 label file (.dlabel.nii: label maps along dimension 0)", found: "\(cifti.rowKind)")
        }
        if maps.count > 1 {
            Diagnostics.warning("\(path): \(maps.count) label maps; the first (\(maps.first.map { $0.isEmpty ? "unnamed" : "'\($0)'" } ?? "")) is used")
        }
        var keys = [Int64](repeating: 0, count: cifti.grayordinates)
        let rows = cifti.rows
        try cifti.forEachBlock { (first: Int, count: Int, values: UnsafeBufferPointer<Double>) throws(NeuroError) in
            for g in 0..<count {
                let v = values[g * rows]
                guard v.isFinite, v == v.rounded(), abs(v) < 1e15 else {
                    throw .invalidInput(file: path, expected: "integer label keys", found: "\(v) at grayordinate \(first + g)")
                }
                keys[first + g] = Int64(v)
            }
        }
        let ids = Set(keys).subtracting([0]).sorted()
        guard !ids.isEmpty else { throw .invalidInput(file: path, expected: "at least one non-zero label", found: "only background") }
        file = path
        regionIDs = ids
        self.keys = keys
        models = cifti.brainModels
        volume = cifti.volume
    }

    /// Column index (into `regionIDs`) of each grayordinate of `series`, -1 where it has no label.
    ///
    /// - Throws: `NeuroError.invalidInput` when a structure is on meshes of different sizes, the
    ///   volumes differ, or no grayordinate of `series` is labelled.
    func columnIndex(for series: CIFTIFile) throws(NeuroError) -> [Int32] {
        var position: [Int64: Int32] = [:]
        for (i, id) in regionIDs.enumerated() { position[id] = Int32(i) }
        var lookup: [Grayordinate: Int32] = [:]
        var meshes: [String: Int] = [:]
        for model in models {
            if let vertices = model.vertices {
                meshes[model.structure] = model.surfaceVertexCount
                for (k, v) in vertices.enumerated() { lookup[.vertex(structure: model.structure, index: v)] = position[keys[model.offset + k]] ?? -1 }
            } else if let voxels = model.voxels {
                for (k, v) in voxels.enumerated() { lookup[.voxel(v)] = position[keys[model.offset + k]] ?? -1 }
            }
        }
        var columns = [Int32](repeating: -1, count: series.grayordinates)
        for model in series.brainModels {
            if let vertices = model.vertices {
                if let mine = meshes[model.structure], mine != model.surfaceVertexCount {
                    throw .invalidInput(
                        file: series.path, expected: "\(model.structure) on the mesh of \(file) (\(mine) vertices)",
                        found: "\(model.surfaceVertexCount ?? 0) vertices")
                }
                for (k, v) in vertices.enumerated() { columns[model.offset + k] = lookup[.vertex(structure: model.structure, index: v)] ?? -1 }
            } else if let voxels = model.voxels {
                if let a = volume, let b = series.volume,
                   a.dimensions != b.dimensions || zip(a.transform, b.transform).contains(where: { abs($0 - $1) > 1e-3 }) {
                    throw .invalidInput(
                        file: series.path, expected: "voxels in the volume of \(file) (dimensions \(a.dimensions))",
                        found: "dimensions \(b.dimensions) or another transform")
                }
                for (k, v) in voxels.enumerated() { columns[model.offset + k] = lookup[.voxel(v)] ?? -1 }
            }
        }
        guard columns.contains(where: { $0 >= 0 }) else {
            throw .invalidInput(file: series.path, expected: "grayordinates labelled by \(file)", found: "none in common (other structures or meshes?)")
        }
        return columns
    }
}
