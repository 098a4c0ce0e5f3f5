import BioEmbedCore
import Foundation

/// The output files as an earlier run left them, kept for a resumed run: hard links (no bytes
/// copied) in `.bioembed/earlier/`, taken when the run starts. Item stages replace files that
/// collection stages then add to, so a map stage over a collection reuses the rows it wrote last
/// time from here. The links are removed when the run ends; a killed run leaves them, and the
/// next resumed run keeps those (the files they point to hold the last complete results).
struct EarlierOutputs {
    let folder: String
    private let links: [String: String]

    /// Links every file of `files` that exists (none: a run without `--resume`, whose earlier
    /// links are removed).
    init(folder: String, files: [String]) {
        self.folder = folder
        if files.isEmpty {
            try? FileManager.default.removeItem(atPath: folder)
        } else {
            try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        }
        var links: [String: String] = [:]
        for path in files {
            var hasher = SHA256()
            hasher.update(Array(PathText.normalized(path).utf8))
            let link = PathText.joined(folder, String(hasher.finalizeHex().prefix(16)) + "-" + (path as NSString).lastPathComponent)
            if FileManager.default.fileExists(atPath: link) || Foundation.link(path, link) == 0 { links[path] = link }
        }
        self.links = links
    }

    /// The earlier version of `output`, if one was kept.
    func path(of output: String) -> String? { links[output] }

    func remove() { try? FileManager.default.removeItem(atPath: folder) }
}
