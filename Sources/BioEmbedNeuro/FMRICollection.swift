import BioEmbedCore
import BioEmbedHDF5
import BioEmbedLinalg
import Foundation

/// Reading `/fmri` and preparing the output group, shared by the collection stages.
enum FMRICollection {
    /// Subjects' time series (`timeseries`, or another ragged dataset with `timeseries_offsets`).
    static func timeSeries(_ input: HDF5File, dataset: String = "timeseries") throws(HDF5Error) -> (ids: [String], series: [Matrix<Double>]) {
        let group = try input.root.group("fmri")
        let reader = try CollectionReader(group)
        let data = try group.dataset(dataset)
        let r = data.shape.count > 1 ? data.shape[1] : 1
        var out: [Matrix<Double>] = []
        for k in 0..<reader.count {
            let values: [Double] = try reader.rows(dataset, offsets: "timeseries_offsets", item: k)
            out.append(Matrix(rows: values.count / max(r, 1), columns: r, storage: values))
        }
        return (reader.ids, out)
    }

    /// The `/fmri` group of `output`: when `output` is a new file, the collection's required arrays
    /// (`ids`, `t_r`, `region_ids`, `timeseries` + offsets) are copied from `input`, so that the
    /// result is a valid collection on its own.
    static func outputGroup(input: HDF5File, output: HDF5File) throws(HDF5Error) -> HDF5Group {
        if output.root.kind(of: "fmri") == .group { return try output.root.group("fmri") }
        let source = try input.root.group("fmri")
        let group = try output.root.createGroup("fmri")
        _ = try group.writeStrings("ids", try source.dataset("ids").readStrings())
        for name in ["t_r"] where source.contains(name) {
            let v: [Double] = try source.dataset(name).read()
            _ = try group.write(name, v, shape: [v.count])
        }
        for name in ["region_ids", "timeseries_offsets"] where source.contains(name) {
            let v: [Int64] = try source.dataset(name).read()
            _ = try group.write(name, v, shape: [v.count])
        }
        if source.contains("timeseries") { try group.copy("timeseries", from: source) }
        return group
    }

    /// Replaces `name` (a dataset or group path under `group`) when it exists.
    static func removeIfPresent(_ group: HDF5Group, _ name: String) throws(HDF5Error) {
        if group.kind(of: name) != nil { try group.remove(name) }
    }

    /// Writes (or replaces) the `ids` of a nested collection: the subjects whose rows a stage wrote
    /// there, in `/fmri/ids` order.
    static func writeIDs(_ ids: [String], to group: HDF5Group) throws(HDF5Error) {
        try removeIfPresent(group, "ids")
        _ = try group.writeStrings("ids", ids)
    }

    /// The `ids` of the nested collection `path` under `/fmri` (e.g. `connectivity`), or an error
    /// naming the stage that writes it.
    static func nestedIDs(_ fmri: HDF5Group, _ path: String, file: String, writtenBy: String) throws -> [String] {
        guard fmri.kind(of: path + "/ids") == .dataset else {
            throw NeuroError.invalidInput(
                file: file, expected: "/fmri/\(path)/ids (the subjects \(writtenBy) wrote; layout bioembed/fmri/2, rerun it)", found: "none")
        }
        return try fmri.dataset(path + "/ids").readStrings()
    }
}
