import BioEmbedCore
import Foundation

/// Runs of an fMRIPrep output folder (BIDS derivatives), found by their file names:
/// `sub-<s>/[ses-<x>/]func/sub-<s>[_ses-<x>]_task-<t>[_run-<r>]_space-<S>_desc-<d>_bold.nii[.gz]`
/// (volumes), `..._space-fsLR_den-91k_bold.dtseries.nii` (CIFTI-2, `--cifti-output`) and
/// `..._hemi-L_space-fsaverage5_bold.func.gii` with its `hemi-R` file (GIFTI; the surface outputs
/// carry no desc),
/// with their companions: the confounds `..._desc-confounds_timeseries.tsv` (fMRIPrep < 20.2:
/// `_regressors.tsv`) and its JSON sidecar, the brain mask `..._space-<S>_desc-brain_mask.nii[.gz]`,
/// and the TR from the BOLD file's JSON sidecar (`RepetitionTime`; else the header). Surface runs
/// need no brain mask; a GIFTI run needs both hemispheres.
///
/// Each run becomes a manifest row (`id`, `bold`, `confounds`, `mask`, `problem`): ids are the
/// run's entities without space and desc (`sub-01_ses-1_task-rest_run-1`); a run with a missing
/// companion keeps a row whose `problem` names what is missing, so it fails as an item (listed in
/// `/errors`) while the others are processed.
public struct BIDSDerivatives: Sendable, Hashable, Codable {
    public var root: String
    public var space: String?
    public var task: String?
    public var desc: String
    public var participants: [String]
    public var sessions: [String]

    public init(root: String, space: String? = nil, task: String? = nil, desc: String = "preproc", participants: [String] = [], sessions: [String] = []) {
        self.root = root
        self.space = space
        self.task = task
        self.desc = desc
        self.participants = participants.map { $0.hasPrefix("sub-") ? String($0.dropFirst(4)) : $0 }
        self.sessions = sessions.map { $0.hasPrefix("ses-") ? String($0.dropFirst(4)) : $0 }
    }

    /// The manifest columns this discovery writes.
    public static let columns = ["id", "bold", "confounds", "mask", "problem"]

    /// BIDS entities that name a run, in the order of the specification (space, res, den and desc
    /// name a derivative of it and are left out of ids).
    static let runEntities = ["sub", "ses", "task", "acq", "ce", "rec", "dir", "run", "echo", "part"]

    /// A file name as its entities (`key` → `value`) and suffix, or nil when it is not a BIDS name.
    static func entities(of name: String) -> (entities: [(String, String)], suffix: String)? {
        var stem = name
        for ext in [".nii.gz", ".nii", ".tsv.gz", ".tsv", ".json"] where stem.hasSuffix(ext) { stem.removeLast(ext.count); break }
        var parts = stem.split(separator: "_").map(String.init)
        guard parts.count >= 2, let suffix = parts.popLast(), !suffix.contains("-") else { return nil }
        var pairs: [(String, String)] = []
        for part in parts {
            let kv = part.split(separator: "-", maxSplits: 1).map(String.init)
            guard kv.count == 2, !kv[0].isEmpty, !kv[1].isEmpty else { return nil }
            pairs.append((kv[0], kv[1]))
        }
        guard pairs.first?.0 == "sub" else { return nil }
        return (pairs, suffix)
    }

    /// Every matching run, sorted by id.
    public func runs() throws(NeuroError) -> [(id: String, fields: [String: String])] {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: root, isDirectory: &isFolder), isFolder.boolValue else {
            throw .invalidInput(file: root, expected: "an fMRIPrep output folder (BIDS derivatives)", found: "no such folder")
        }
        let subjects = ((try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []).filter { $0.hasPrefix("sub-") }.sorted()
        var found: [(id: String, space: String, fields: [String: String])] = []
        for subject in subjects where participants.isEmpty || participants.contains(String(subject.dropFirst(4))) {
            let subjectFolder = PathText.joined(root, subject)
            var funcFolders = [PathText.joined(subjectFolder, "func")]
            for session in ((try? FileManager.default.contentsOfDirectory(atPath: subjectFolder)) ?? []).sorted() where session.hasPrefix("ses-") {
                if sessions.isEmpty || sessions.contains(String(session.dropFirst(4))) {
                    funcFolders.append(PathText.joined(PathText.joined(subjectFolder, session), "func"))
                }
            }
            for folder in funcFolders {
                let names = Set((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? [])
                for name in names.sorted() {
                    let format: Parcellation.Format
                    if name.hasSuffix("_bold.nii.gz") || name.hasSuffix("_bold.nii") { format = .nifti }
                    else if name.hasSuffix("_bold.dtseries.nii") { format = .cifti }
                    else if name.hasSuffix("_bold.func.gii") { format = .gifti }
                    else { continue }
                    guard let (pairs, _) = Self.entities(of: name) else { continue }
                    let value = { (key: String) in pairs.first { $0.0 == key }?.1 }
                    // fMRIPrep names its surface outputs without desc; volumes carry desc-preproc.
                    guard value("desc") == desc || (format != .nifti && value("desc") == nil) else { continue }
                    if let task, value("task") != task { continue }
                    if let space, value("space") != space { continue }
                    if !sessions.isEmpty, let session = value("ses"), !sessions.contains(session) { continue }
                    // GIFTI: one row per run, from the left hemisphere's file
                    if format == .gifti, value("hemi") != "L" { continue }
                    let runPairs = pairs.filter { Self.runEntities.contains($0.0) }
                    let id = runPairs.map { "\($0.0)-\($0.1)" }.joined(separator: "_")
                    var fields = ["bold": PathText.joined(folder, name), "confounds": "", "mask": "", "problem": ""]
                    var missing: [String] = []
                    let confoundNames = ["timeseries", "regressors"].map { "\(id)_desc-confounds_\($0).tsv" }
                    if let confounds = confoundNames.first(where: names.contains) {
                        fields["confounds"] = PathText.joined(folder, confounds)
                        let sidecar = String(confounds.dropLast(4)) + ".json"
                        if !names.contains(sidecar) { missing.append("the confounds' JSON sidecar \(sidecar)") }
                    } else {
                        missing.append("the confounds TSV \(confoundNames[0])")
                    }
                    switch format {
                    case .nifti:
                        let maskStem = (pairs.filter { $0.0 != "desc" }.map { "\($0.0)-\($0.1)" }).joined(separator: "_") + "_desc-brain_mask"
                        if let mask = [".nii.gz", ".nii"].map({ maskStem + $0 }).first(where: names.contains) {
                            fields["mask"] = PathText.joined(folder, mask)
                        } else {
                            missing.append("the brain mask \(maskStem).nii.gz")
                        }
                    case .gifti:
                        let right = name.replacingOccurrences(of: "_hemi-L_", with: "_hemi-R_")
                        if !names.contains(right) { missing.append("the right hemisphere's \(right)") }
                    case .cifti:
                        break
                    }
                    if !missing.isEmpty { fields["problem"] = "fMRIPrep run without " + missing.joined(separator: " and ") + " in \(folder)" }
                    found.append((id, value("space") ?? "", fields))
                }
            }
        }
        // Several spaces for one run: the user must choose.
        let spaces = Set(found.map(\.space))
        if space == nil, spaces.count > 1 {
            throw .invalidParameter(name: "space", expected: "one of the spaces found (\(spaces.sorted().joined(separator: ", ")))", found: "none chosen")
        }
        var seen: [String: String] = [:]
        for run in found {
            if let other = seen.updateValue(run.fields["bold"] ?? "", forKey: run.id) {
                throw .invalidInput(
                    file: root, expected: "one preprocessed file per run (choose with --space or --desc)",
                    found: "\((other as NSString).lastPathComponent) and \(((run.fields["bold"] ?? "") as NSString).lastPathComponent) for \(run.id)")
            }
        }
        guard !found.isEmpty else {
            throw .invalidInput(
                file: root, expected: "preprocessed BOLD runs (*_desc-\(desc)_bold.nii.gz, *_bold.dtseries.nii or *_hemi-L_*_bold.func.gii under sub-*/[ses-*/]func)"
                    + (task.map { " of task \($0)" } ?? "") + (space.map { " in space \($0)" } ?? ""),
                found: "none")
        }
        return found.sorted { $0.id < $1.id }.map { ($0.id, $0.fields) }
    }

    /// The runs as manifest items (paths as found under `root`).
    public func items() throws(NeuroError) -> [ManifestItem] {
        try runs().enumerated().map { index, run in
            ManifestItem(id: run.id, index: index, line: index + 2, fields: run.fields.merging(["id": run.id]) { $1 }, baseDirectory: "")
        }
    }

    /// The runs as a manifest (TSV text with `columns`, absolute paths).
    public func manifestText() throws(NeuroError) -> String {
        var lines = [Manifest.tsvLine(Self.columns)]
        for run in try runs() {
            // absolute paths: the manifest is read from the run folder
            let cells = [run.id] + Self.columns.dropFirst().map { column in
                let value = run.fields[column] ?? ""
                return column == "problem" || value.isEmpty ? value : PathText.absolute(value)
            }
            lines.append(Manifest.tsvLine(cells))
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
