import BioEmbedCore
import BioEmbedHDF5
import Foundation

/// An fMRIPrep confounds TSV: a header row of column names, one row per volume, `n/a` for missing.
///
/// Values are kept column-major (`columns[name]` is one time series); `n/a` and empty cells are NaN.
public struct ConfoundsTable: Sendable {
    public let file: String
    public let names: [String]
    public let columns: [String: [Double]]
    public let rowCount: Int
    /// CompCor metadata from the sidecar JSON (`a_comp_cor_00` → `Mask`), for columns that have it
    /// and are retained (`Retained` not false).
    public var compcorMasks: [String: String] = [:]
    /// Whether the fMRIPrep JSON sidecar (`.tsv` → `.json`) was found: anatomical CompCor needs it.
    public var hasSidecar = false

    /// Reads a tab-separated table (`.tsv`, also `.tsv.gz`).
    ///
    /// - Throws: `NeuroError.invalidInput` naming the file and line for a ragged row or a cell that is
    ///   neither a number nor `n/a`.
    public static func load(_ path: String) throws(NeuroError) -> ConfoundsTable {
        let bytes: [UInt8]
        do { bytes = try CompressedFileReader.readAll(path) } catch {
            throw .invalidInput(file: path, expected: "a readable confounds TSV", found: "\(error)")
        }
        let text = String(decoding: bytes, as: UTF8.self)
        var lines = TextLines.split(text)
        while let last = lines.last, last.trimmingCharacters(in: .whitespaces).isEmpty { lines.removeLast() }
        guard let head = lines.first else {
            throw .invalidInput(file: path, expected: "a header row of confound names", found: "an empty file")
        }
        let names = head.split(separator: "\t", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        var values = [[Double]](repeating: [], count: names.count)
        for (index, line) in lines.dropFirst().enumerated() {
            let cells = line.split(separator: "\t", omittingEmptySubsequences: false)
            guard cells.count == names.count else {
                throw .invalidInput(file: "\(path):\(index + 2)", expected: "\(names.count) tab-separated fields", found: "\(cells.count)")
            }
            for (c, cell) in cells.enumerated() {
                let s = cell.trimmingCharacters(in: .whitespaces)
                if s == "n/a" || s.isEmpty || s == "NaN" || s == "nan" {
                    values[c].append(.nan)
                } else if let v = Double(s) {
                    values[c].append(v)
                } else {
                    throw .invalidInput(file: "\(path):\(index + 2)", expected: "a number or n/a in column '\(names[c])'", found: "'\(s)'")
                }
            }
        }
        var columns: [String: [Double]] = [:]
        for (name, column) in zip(names, values) { columns[name] = column }
        var table = ConfoundsTable(file: path, names: names, columns: columns, rowCount: lines.count - 1)
        table.compcorMasks = sidecarMasks(path)
        table.hasSidecar = FileManager.default.fileExists(atPath: sidecarPath(path))
        return table
    }

    public init(file: String, names: [String], columns: [String: [Double]], rowCount: Int) {
        self.file = file
        self.names = names
        self.columns = columns
        self.rowCount = rowCount
    }

    /// `Mask` of each retained CompCor component in the sidecar JSON (`.tsv` → `.json`).
    static func sidecarPath(_ path: String) -> String {
        var stem = path
        for ext in [".tsv.gz", ".tsv"] where stem.hasSuffix(ext) { stem.removeLast(ext.count); break }
        return stem + ".json"
    }

    static func sidecarMasks(_ path: String) -> [String: String] {
        guard let data = FileManager.default.contents(atPath: sidecarPath(path)),
              let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return [:] }
        var masks: [String: String] = [:]
        for (name, value) in object {
            guard let entry = value as? [String: Any], let mask = entry["Mask"] as? String else { continue }
            if let retained = entry["Retained"] as? Bool, !retained { continue }
            masks[name] = mask
        }
        return masks
    }

    /// The fMRIPrep confounds file next to a preprocessed BOLD file, as `load_confounds` finds it:
    /// the entities before `_space-`/`_desc-` plus `_desc-confounds_timeseries.tsv`
    /// (or the older `_desc-confounds_regressors.tsv`).
    public static func sibling(ofBold bold: String) -> String? {
        let folder = (bold as NSString).deletingLastPathComponent
        let name = (bold as NSString).lastPathComponent
        var entities: [Substring] = []
        for part in name.split(separator: "_") {
            if part.hasPrefix("space-") || part.hasPrefix("desc-") || part.hasPrefix("res-") || part.hasPrefix("den-")
                || part.hasPrefix("bold") || part.hasPrefix("hemi-") { break }
            entities.append(part)
        }
        guard !entities.isEmpty else { return nil }
        let stem = entities.joined(separator: "_")
        for suffix in ["_desc-confounds_timeseries.tsv", "_desc-confounds_regressors.tsv"] {
            let candidate = PathText.joined(folder, stem + suffix)
            if FileManager.default.fileExists(atPath: candidate) { return candidate }
        }
        return nil
    }
}
