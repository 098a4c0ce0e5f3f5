import BioEmbedCore
import BioEmbedHDF5
import Foundation

/// `export notebook`: a Jupyter notebook (nbformat 4.5) that opens a run's HDF5 files with h5py
/// and plots what a scientist looks at first, one section per collection found.
///
/// Cell templates live in `notebooks-export/templates/` (compiled into the binary). Paths in the
/// notebook are relative to its folder, so the run folder can be moved with it.
public enum NotebookExport {
    /// Collections with a section, in the order they appear in the notebook.
    static let sections = [("fmri", "fMRI"), ("proteins", "Proteins"), ("molecules", "Molecules"), ("embeddings", "Embeddings"), ("files", "Input files")]

    /// Writes the notebook; returns the section titles it contains.
    @discardableResult
    public static func export(_ input: String, to output: String) throws -> [String] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: input, isDirectory: &isDirectory) else {
            throw CoreError.unreadable(file: input, reason: "no such file or folder")
        }
        let files: [String]
        if isDirectory.boolValue {
            files = ((try? FileManager.default.contentsOfDirectory(atPath: input)) ?? [])
                .filter { $0.hasSuffix(".h5") && !$0.contains(".tmp-") }.sorted().map { PathText.joined(input, $0) }
            if files.isEmpty { throw CoreError.unreadable(file: input, reason: "the folder holds no .h5 files") }
        } else {
            files = [input]
        }
        let notebookFolder = (PathText.absolute(output) as NSString).deletingLastPathComponent
        var cells: [[String: Any]] = []
        var titles: [String] = []
        func markdown(_ text: String) {
            cells.append(["cell_type": "markdown", "id": "cell-\(cells.count)", "metadata": [String: Any](), "source": text])
        }
        func code(_ text: String) {
            cells.append(["cell_type": "code", "id": "cell-\(cells.count)", "metadata": [String: Any](), "execution_count": NSNull(),
                          "outputs": [Any](), "source": text])
        }
        let relative = files.map { relativePath(PathText.absolute($0), from: notebookFolder) }
        markdown("# BioEmbed results\n\nFiles: " + relative.map { "`\(Self.pythonStringBody($0))`" }.joined(separator: ", ")
                 + "\n\nWritten by `bioembed export notebook` (BioEmbed \(BioEmbedVersion.string)). Run all cells; figures are also saved in `figures/`.")
        let list = "[" + relative.map { "\"" + Self.pythonStringBody($0) + "\"" }.joined(separator: ", ") + "]"
        code(try template("header.py").replacingOccurrences(of: "{{FILES}}", with: list))
        var index = 0
        for (file, relativeFile) in zip(files, relative) {
            let handle = try HDF5File.open(file)
            defer { handle.close() }
            for (group, title) in sections where handle.root.kind(of: group) == .group {
                let escaped = Self.pythonStringBody(relativeFile)
                markdown("## \(title): `\(escaped)`")
                code(try template("\(group).py").replacingOccurrences(of: "{{FILE}}", with: escaped).replacingOccurrences(of: "{{INDEX}}", with: String(index)))
                titles.append(title)
                index += 1
            }
        }
        if titles.isEmpty {
            throw CoreError.invalidItem(file: input, problem: "no BioEmbed collection (/fmri, /proteins, /molecules, /embeddings, /files) to show")
        }
        let notebook: [String: Any] = [
            "nbformat": 4, "nbformat_minor": 5,
            "metadata": ["kernelspec": ["name": "python3", "display_name": "Python 3", "language": "python"],
                         "language_info": ["name": "python"]],
            "cells": cells,
        ]
        let data = try JSONSerialization.data(withJSONObject: notebook, options: [.prettyPrinted, .sortedKeys])
        try? FileManager.default.createDirectory(atPath: notebookFolder, withIntermediateDirectories: true)
        guard AtomicFile.write(data, to: output) else {
            throw CoreError.unreadable(file: output, reason: "cannot write the notebook")
        }
        return titles
    }

    static func template(_ name: String) throws -> String {
        guard let text = EmbeddedTemplates.files[name] else {
            throw CoreError.invalidValue(name: "notebook template", expected: "notebooks-export/templates/\(name)", found: "none")
        }
        return text
    }

    public static var templateSources: [String: String] { EmbeddedTemplates.files }

    /// `target` relative to the folder `base` (both absolute).
    static func relativePath(_ target: String, from base: String) -> String {
        let t = PathText.normalized(target).split(separator: "/")
        let b = PathText.normalized(base).split(separator: "/")
        var common = 0
        while common < min(t.count, b.count) && t[common] == b[common] { common += 1 }
        let ups = Array(repeating: "..", count: b.count - common)
        let rest = t[common...].map(String.init)
        let joined = (ups + rest).joined(separator: "/")
        return joined.isEmpty ? "." : joined
    }

    /// `text` as the inside of a double-quoted Python string literal. JSON's string escapes
    /// (`\\`, `\"`, `\n`, `\uXXXX` for every other control character) mean the same in Python,
    /// so a file name holding a newline or a quote stays one string and the cell stays valid.
    static func pythonStringBody(_ text: String) -> String {
        var quoted = ""
        JSONText.appendString(text, to: &quoted)
        return String(quoted.dropFirst().dropLast())
    }
}
