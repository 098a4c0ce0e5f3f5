import BioEmbedCore
import Foundation

/// Subject/run ids from BOLD file names: the BIDS entities that name a run (`sub-01_ses-1_task-rest_run-1`),
/// without the folder, `space-`/`res-`/`desc-` entities, suffix and extension.
public enum FMRIRunID {
    /// `sub-01_task-rest_space-X_desc-preproc_bold.nii.gz` → `sub-01_task-rest`; a name without
    /// BIDS entities keeps its file name minus `.nii[.gz]`.
    public static func id(forFile path: String) -> String {
        var name = (path as NSString).lastPathComponent
        for ext in [".dtseries.nii.gz", ".dtseries.nii", ".func.gii.gz", ".func.gii", ".nii.gz", ".nii", ".gii.gz", ".gii"] where name.hasSuffix(ext) {
            name.removeLast(ext.count)
            break
        }
        let parts = name.split(separator: "_")
        guard parts.first?.hasPrefix("sub-") == true else { return name }
        let kept = parts.filter { part in
            part.contains("-") && !["space-", "res-", "den-", "desc-", "hemi-"].contains { part.hasPrefix($0) }
        }
        return kept.joined(separator: "_")
    }

    /// Items with shortened ids; when two runs would share an id, the originals are kept.
    public static func shorten(_ items: [ManifestItem]) -> [ManifestItem] {
        let ids = items.map { id(forFile: $0.path() ?? $0.id) }
        guard Set(ids).count == ids.count else { return items }
        return zip(items, ids).map { item, id in
            ManifestItem(id: id, index: item.index, line: item.line, fields: item.fields, baseDirectory: item.baseDirectory)
        }
    }

    /// What a folder given as `--bold` is searched for.
    public static let boldSuffixes = ["bold.nii.gz", "bold.nii", "bold.dtseries.nii", "bold.func.gii", "bold.func.gii.gz"]

    /// GIFTI runs are one file per hemisphere: the right hemisphere's file is dropped where the left
    /// one is also an item (`Hemispheres.files` pairs them again).
    public static func oneItemPerRun(_ items: [ManifestItem]) -> [ManifestItem] {
        let paths = Set(items.compactMap { $0.path() })
        let dropped = Set(items.compactMap { item -> String? in
            guard let path = item.path(), Parcellation.Format(path: path) == .gifti,
                  let pair = try? Hemispheres.files(path), pair.count == 2, pair[1] == path, paths.contains(pair[0]) else { return nil }
            return path
        })
        return items.filter { !dropped.contains($0.path() ?? "") }.enumerated().map { index, item in
            ManifestItem(id: item.id, index: index, line: item.line, fields: item.fields, baseDirectory: item.baseDirectory)
        }
    }
}
