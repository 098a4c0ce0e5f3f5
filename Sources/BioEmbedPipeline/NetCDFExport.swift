import BioEmbedCore
import BioEmbedHDF5
import Foundation

/// `export netcdf`: the `/fmri` time series and connectivity of a BioEmbed file as NetCDF-4 with
/// named dimensions and coordinates, for xarray and the netCDF tools.
///
/// Dimensions: `subject` (S), `time` (the longest run; shorter runs are padded with NaN, and
/// `n_time` gives each run's length), `region` and `region_j` (R, for connectivity matrices).
/// Variables: `subject` (ids), `region` / `region_j` (atlas label values), `t_r`, `n_time`,
/// `time` (s, for the longest run's grid), `timeseries` [subject, time, region], and
/// `connectivity_<kind>` [subject, region, region_j] for each kind present. Connectivity is a
/// nested collection (`/fmri/connectivity/ids`): a subject that failed there has NaN matrices here,
/// since a NetCDF variable spans the whole `subject` dimension.
public enum NetCDFExport {
    public static func export(_ input: String, to output: String) throws {
        let file = try HDF5File.open(input)
        defer { file.close() }
        guard file.root.kind(of: "fmri") == .group else {
            throw HDF5Error.missingObject(file: input, object: "/fmri (export netcdf writes fMRI time series and connectivity)")
        }
        let group = try file.root.group("fmri")
        let reader = try CollectionReader(group)
        let subjects = reader.ids
        let regions: [Int64] = try group.dataset("region_ids").read()
        let offsets = try reader.offsets("timeseries_offsets")
        let lengths = zip(offsets.dropFirst(), offsets).map { Int($0 - $1) }
        let maxTime = lengths.max() ?? 0
        let tr: [Double] = try group.dataset("t_r").read()
        let r = regions.count
        // The NetCDF variable is written from one padded array: it must fit in memory.
        guard MemoryBudget.fits([subjects.count, maxTime, r], elementSize: MemoryLayout<Double>.stride) else {
            throw HDF5Error.shapeMismatch(
                file: input, object: "/fmri/timeseries",
                expected: "time series of at most \(MemoryBudget.describe(MemoryBudget.perInput)) padded to the longest run (the memory budget of one input)",
                found: "\(subjects.count) subject(s) × \(maxTime) time points × \(r) regions")
        }

        let nc = try NetCDFFile.create(output)
        try nc.addDimension("subject", length: subjects.count)
        try nc.addDimension("time", length: maxTime)
        try nc.addDimension("region", length: r)
        try nc.addDimension("region_j", length: r)
        try nc.addVariable("subject", type: .string, dimensions: ["subject"])
        try nc.addVariable("region", type: .int64, dimensions: ["region"])
        try nc.addVariable("region_j", type: .int64, dimensions: ["region_j"])
        try nc.addVariable("t_r", type: .float64, dimensions: ["subject"])
        try nc.addVariable("n_time", type: .int64, dimensions: ["subject"])
        try nc.addVariable("time", type: .float64, dimensions: ["time"])
        try nc.addVariable("timeseries", type: .float64, dimensions: ["subject", "time", "region"], compressed: true)
        let kinds = ((try? group.group("connectivity").children()) ?? [])
            .filter { $0.kind == .dataset && !Self.connectivityMetadata.contains($0.name) }.map(\.name)
        for kind in kinds {
            try nc.addVariable("connectivity_\(kind)", type: .float64, dimensions: ["subject", "region", "region_j"], compressed: true)
            try nc.setAttribute("long_name", .string("\(kind.replacingOccurrences(of: "_", with: " ")) matrix"), variable: "connectivity_\(kind)")
        }
        for kind in kinds { try nc.setAttribute("_FillValue", .double(.nan), variable: "connectivity_\(kind)") }
        try nc.setAttribute("long_name", .string("cleaned ROI time series"), variable: "timeseries")
        try nc.setAttribute("_FillValue", .double(.nan), variable: "timeseries")
        try nc.setAttribute("units", .string("s"), variable: "t_r")
        try nc.setAttribute("units", .string("s"), variable: "time")
        try nc.setAttribute("long_name", .string("atlas label value"), variable: "region")
        try nc.setAttribute("title", .string("BioEmbed fMRI export of \((input as NSString).lastPathComponent)"))
        try nc.setAttribute("source", .string("bioembed \(BioEmbedVersion.string)"))
        try nc.setAttribute("Conventions", .string("CF-1.8"))

        try nc.write("subject", .strings(subjects))
        try nc.write("region", .int64(regions))
        try nc.write("region_j", .int64(regions))
        try nc.write("t_r", .float64(tr))
        try nc.write("n_time", .int64(lengths.map(Int64.init)))
        try nc.write("time", .float64((0..<maxTime).map { Double($0) * (tr.first ?? 1) }))
        var padded = [Double](repeating: .nan, count: subjects.count * maxTime * r)
        let series = try group.dataset("timeseries")
        for (s, length) in lengths.enumerated() where length > 0 {
            let rows: [Double] = try series.readRows(Int(offsets[s])..<Int(offsets[s + 1]))
            padded.withUnsafeMutableBufferPointer { out in
                rows.withUnsafeBufferPointer { src in
                    let base = s * maxTime * r
                    for i in 0..<(length * r) { out[base + i] = src[i] }
                }
            }
        }
        try nc.write("timeseries", .float64(padded))
        if !kinds.isEmpty {
            let rows = try connectivityRows(group, subjects: subjects, file: input)
            let matrix = r * r
            guard MemoryBudget.fits([subjects.count + rows.count, r, r], elementSize: MemoryLayout<Double>.stride) else {
                throw HDF5Error.shapeMismatch(
                    file: input, object: "/fmri/connectivity",
                    expected: "matrices of at most \(MemoryBudget.describe(MemoryBudget.perInput)) (the memory budget of one input)",
                    found: "\(subjects.count) subject(s) × \(r) × \(r) regions")
            }
            for kind in kinds {
                let dataset = try group.dataset("connectivity/\(kind)")
                guard dataset.shape == [rows.count, r, r] else {
                    throw HDF5Error.shapeMismatch(file: input, object: "/fmri/connectivity/\(kind)",
                                                  expected: "[\(rows.count), \(r), \(r)]", found: "\(dataset.shape)")
                }
                let values: [Double] = try dataset.read()
                var scattered = [Double](repeating: .nan, count: subjects.count * matrix)
                for (row, s) in rows.enumerated() {
                    scattered.replaceSubrange(s * matrix..<(s + 1) * matrix, with: values[row * matrix..<(row + 1) * matrix])
                }
                try nc.write("connectivity_\(kind)", .float64(scattered))
            }
        }
        try nc.commit()
    }

    /// Datasets under `/fmri/connectivity` that are not per-subject matrices.
    static let connectivityMetadata: Set<String> = ["ids", "tangent_mean"]

    /// For each row of `/fmri/connectivity`, its subject's position in `/fmri/ids`. Layout 1 files
    /// (no nested ids) held one row per subject.
    static func connectivityRows(_ fmri: HDF5Group, subjects: [String], file: String) throws -> [Int] {
        guard fmri.kind(of: "connectivity/ids") == .dataset else { return Array(subjects.indices) }
        let position = Dictionary(subjects.enumerated().map { ($1, $0) }, uniquingKeysWith: { first, _ in first })
        return try fmri.dataset("connectivity/ids").readStrings().map { id in
            guard let s = position[id] else {
                throw HDF5Error.shapeMismatch(file: file, object: "/fmri/connectivity/ids",
                                              expected: "ids listed in /fmri/ids", found: "'\(id)'")
            }
            return s
        }
    }
}
