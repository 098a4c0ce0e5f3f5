import Foundation

/// Turns the `--input` arguments of a per-stage command (files, folders searched recursively,
/// shell globs) into manifest items, in a stable order.
public enum InputDiscovery {
    /// Expands arguments into files.
    ///
    /// - Parameters:
    ///   - arguments: paths, folders or glob patterns (`*`, `?`, `[...]`).
    ///   - extensions: lowercase suffixes a file found in a folder must end with (e.g. `[".pdb",
    ///     ".cif", ".pdb.gz"]`); empty accepts every file. Files named explicitly are always kept.
    /// - Returns: (path, id) pairs: the id is the file name for a named file, the path below the
    ///   folder for a file found in a folder.
    /// - Throws: `CoreError` when an argument matches nothing, or two inputs get the same id.
    public static func expand(_ arguments: [String], extensions: [String] = []) throws -> [(path: String, id: String)] {
        var found: [(String, String)] = []
        for argument in arguments {
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: argument, isDirectory: &isDirectory) {
                if isDirectory.boolValue {
                    let files = walk(argument, extensions: extensions)
                    if files.isEmpty {
                        throw CoreError.unreadable(
                            file: argument,
                            reason: "the folder holds no input files" + (extensions.isEmpty ? "" : " (\(extensions.joined(separator: ", ")))"))
                    }
                    found += files
                } else {
                    found.append((argument, (argument as NSString).lastPathComponent))
                }
            } else if argument.contains(where: { "*?[".contains($0) }) {
                let matches = glob(argument)
                if matches.isEmpty { throw CoreError.unreadable(file: argument, reason: "the pattern matches no file") }
                found += matches.map { ($0, ($0 as NSString).lastPathComponent) }
            } else {
                throw CoreError.unreadable(file: argument, reason: "no such file or folder")
            }
        }
        var seen: [String: String] = [:]
        for (path, id) in found {
            if let other = seen[id], other != path {
                throw CoreError.invalidValue(name: "--input", expected: "inputs with distinct names", found: "'\(id)' twice (\(other) and \(path))")
            }
            seen[id] = path
        }
        var unique = Set<String>()
        return found.filter { unique.insert($0.0).inserted }.map { (path: $0.0, id: $0.1) }
    }

    /// Items for a stage: one per input file, `path` column set.
    public static func items(_ arguments: [String], extensions: [String] = []) throws -> [ManifestItem] {
        try expand(arguments, extensions: extensions).enumerated().map { index, input in
            ManifestItem(id: input.id, index: index, line: index + 1, fields: ["path": input.path], baseDirectory: "")
        }
    }

    /// Items from a list file (`--input-list`, pipeline key `input_list`): one path per line (any
    /// line end; blank lines and `#` comments skipped), relative paths against the list's folder.
    /// Files are not checked here (a list may name millions): a missing one fails as its item.
    /// Ids are file names; names that occur twice take the path as written in the list instead.
    /// - Throws: `CoreError` for an unreadable list or a path listed twice (naming both lines).
    public static func items(listFile: String) throws -> [ManifestItem] {
        let text: String
        do { text = try String(contentsOfFile: listFile, encoding: .utf8) } catch {
            throw CoreError.unreadable(file: listFile, reason: FileManager.default.fileExists(atPath: listFile) ? "not UTF-8 text" : "no such file")
        }
        let base = (listFile as NSString).deletingLastPathComponent
        var entries: [(line: Int, path: String)] = []
        var lineOf: [String: Int] = [:]
        for (index, raw) in TextLines.split(text).enumerated() {
            let path = raw.trimmingCharacters(in: .whitespaces)
            if path.isEmpty || path.hasPrefix("#") { continue }
            if let first = lineOf[path] {
                throw CoreError.badManifestRow(file: listFile, line: index + 1, problem: "'\(path)' was already listed on line \(first)")
            }
            lineOf[path] = index + 1
            entries.append((index + 1, path))
        }
        var nameCount: [String: Int] = [:]
        for entry in entries { nameCount[(entry.path as NSString).lastPathComponent, default: 0] += 1 }
        return entries.enumerated().map { index, entry in
            let name = (entry.path as NSString).lastPathComponent
            return ManifestItem(id: nameCount[name] == 1 ? name : entry.path, index: index, line: entry.line,
                                fields: ["path": entry.path], baseDirectory: base)
        }
    }

    /// Items as a manifest text (`id`, absolute `path`: the manifest may live in another folder;
    /// cells with tabs, quotes or line ends quoted).
    public static func manifestText(_ items: [ManifestItem]) -> String {
        var out = Manifest.tsvLine(["id", "path"]) + "\n"
        for item in items { out += Manifest.tsvLine([item.id, item.path().map(PathText.absolute) ?? ""]) + "\n" }
        return out
    }

    private static func walk(_ folder: String, extensions: [String]) -> [(String, String)] {
        guard let enumerator = FileManager.default.enumerator(atPath: folder) else { return [] }
        var files: [(String, String)] = []
        while let relative = enumerator.nextObject() as? String {
            let path = PathText.joined(folder, relative)
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue else { continue }
            let name = (relative as NSString).lastPathComponent
            if name.hasPrefix(".") { continue }
            if !extensions.isEmpty {
                let lower = name.lowercased()
                if !extensions.contains(where: { lower.hasSuffix($0) }) { continue }
            }
            files.append((path, relative))
        }
        return files.sorted { $0.1 < $1.1 }
    }

    private static func glob(_ pattern: String) -> [String] {
        var result = glob_t()
        defer { globfree(&result) }
        guard Glibc.glob(pattern, 0, nil, &result) == 0 else { return [] }
        return (0..<Int(result.gl_pathc)).compactMap { result.gl_pathv[$0].map { String(cString: $0) } }.sorted()
    }
}
