import BioEmbedCore
import Foundation

/// A surface parcellation in GIFTI label files (`.label.gii`), one per hemisphere: the
/// `labels_img` of nilearn's `SurfaceLabelsMasker`. Label values are shared by the hemispheres (a
/// value present in both is one region, as in nilearn, which concatenates the hemispheres); 0 is
/// the background; the columns are the sorted distinct non-zero values.
public struct SurfaceAtlas: Sendable {
    /// The label files, left hemisphere first (see `Hemispheres.files`).
    public let files: [String]
    /// Label value per vertex, per hemisphere.
    public let labels: [[Int64]]
    public let regionIDs: [Int64]

    public init(_ path: String) throws(NeuroError) {
        files = try Hemispheres.files(path)
        var labels: [[Int64]] = []
        for file in files {
            let gifti = try GIFTIFile(file)
            guard gifti.arrays.count == 1 || gifti.arrays.allSatisfy({ $0.dimensions == gifti.arrays[0].dimensions }) else {
                throw .invalidInput(file: file, expected: "one label array", found: "\(gifti.arrays.count) arrays of different shapes")
            }
            if gifti.arrays.count > 1 {
                Diagnostics.warning("\(file): \(gifti.arrays.count) label arrays; the first is used")
            }
            let values = try gifti.values(0)
            var part = [Int64](repeating: 0, count: values.count)
            for (i, v) in values.enumerated() {
                guard v.isFinite, v == v.rounded(), abs(v) < 1e15 else {
                    throw .invalidInput(file: file, expected: "integer label values", found: "\(v) at vertex \(i)")
                }
                part[i] = Int64(v)
            }
            labels.append(part)
        }
        let ids = Set(labels.joined()).subtracting([0]).sorted()
        guard !ids.isEmpty else { throw .invalidInput(file: path, expected: "at least one non-zero label", found: "only background") }
        self.labels = labels
        self.regionIDs = ids
    }
}

/// The files of the two hemispheres of a surface data set, found from one of them by name:
/// BIDS `hemi-L`/`hemi-R`, HCP `.L.`/`.R.`, FreeSurfer `lh.`/`rh.`. A name without a hemisphere
/// marker is one part on its own.
public enum Hemispheres {
    /// `[left, right]` when `path` names a hemisphere, else `[path]`.
    ///
    /// - Throws: `NeuroError.invalidInput` when the other hemisphere's file is missing.
    public static func files(_ path: String) throws(NeuroError) -> [String] {
        let folder = (path as NSString).deletingLastPathComponent
        let name = (path as NSString).lastPathComponent
        for (left, right) in [("hemi-L", "hemi-R"), (".L.", ".R."), ("lh.", "rh.")] {
            let anchored = left == "lh."
            for (mine, other, isLeft) in [(left, right, true), (right, left, false)] {
                guard let range = name.range(of: mine), !anchored || range.lowerBound == name.startIndex else { continue }
                let partnerName = name.replacingCharacters(in: range, with: other)
                let partner = folder.isEmpty ? partnerName : (folder as NSString).appendingPathComponent(partnerName)
                guard FileManager.default.fileExists(atPath: partner) else {
                    throw .invalidInput(file: path, expected: "the \(isLeft ? "right" : "left") hemisphere's file \(partnerName) next to it", found: "none")
                }
                return isLeft ? [path, partner] : [partner, path]
            }
        }
        return [path]
    }
}
