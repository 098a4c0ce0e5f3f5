import Foundation

/// A sample sheet: a TSV or CSV file with a header row and one item per row.
///
/// The delimiter follows the extension (`.tsv`/`.txt` tab, `.csv` comma; otherwise the header decides).
/// CSV fields may be double-quoted (RFC 4180, `""` inside quotes). Blank lines and lines starting
/// with `#` are skipped. Relative paths in path columns resolve against the manifest's folder.
/// An `id` column is optional: without it an item's id is its `path` file name.
public struct Manifest: Sendable {
    public let file: String
    public let columns: [String]
    public let items: [ManifestItem]

    public init(file: String, columns: [String], items: [ManifestItem]) {
        self.file = file
        self.columns = columns
        self.items = items
    }

    /// Reads and validates a manifest; every problem names the file and line.
    ///
    /// - Parameter requiredColumns: columns that must exist (e.g. `["path"]`).
    public static func load(_ path: String, requiredColumns: [String] = ["path"]) throws -> Manifest {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw CoreError.unreadable(
                file: path, reason: FileManager.default.fileExists(atPath: path) ? "not UTF-8 text" : "no such file")
        }
        return try parse(text, file: path, requiredColumns: requiredColumns)
    }

    public static func parse(_ text: String, file: String, requiredColumns: [String] = ["path"]) throws -> Manifest {
        let base = (file as NSString).deletingLastPathComponent
        // Records: physical lines (any line end), joined while a double-quoted field is open (a
        // quoted CSV field may hold a line break); numbered by their first line.
        var lines: [(number: Int, text: String)] = []
        var pending: (number: Int, text: String, quotes: Int)?
        for (index, raw) in TextLines.split(text).enumerated() {
            let line = String(raw)
            let quotes = line.reduce(0) { $0 + ($1 == "\"" ? 1 : 0) }
            if var open = pending {
                open.text += "\n" + line
                open.quotes += quotes
                pending = open.quotes % 2 == 1 ? open : nil
                if pending == nil { lines.append((open.number, open.text)) }
                continue
            }
            if line.trimmingCharacters(in: .whitespaces).isEmpty || line.hasPrefix("#") { continue }
            if quotes % 2 == 1 { pending = (index + 1, line, quotes) } else { lines.append((index + 1, line)) }
        }
        if let open = pending { lines.append((open.number, open.text)) }  // the cell splitter reports the open quote
        guard let header = lines.first else {
            throw CoreError.badManifestRow(file: file, line: 1, problem: "expected a header row, found an empty manifest")
        }
        let lower = file.lowercased()
        let delimiter: Character
        if lower.hasSuffix(".csv") { delimiter = "," }
        else if lower.hasSuffix(".tsv") || lower.hasSuffix(".txt") { delimiter = "\t" }
        else { delimiter = header.text.contains("\t") ? "\t" : "," }

        let columns = try split(header.text, delimiter: delimiter, file: file, line: header.number)
            .map { $0.trimmingCharacters(in: .whitespaces) }
        for (i, name) in columns.enumerated() {
            if name.isEmpty {
                throw CoreError.badManifestRow(file: file, line: header.number, problem: "column \(i + 1) of the header has no name")
            }
            if columns[..<i].contains(name) {
                throw CoreError.badManifestRow(file: file, line: header.number, problem: "column '\(name)' appears twice in the header")
            }
        }
        for required in requiredColumns where !columns.contains(required) {
            throw CoreError.missingColumn(file: file, column: required, found: columns)
        }
        var items: [ManifestItem] = []
        var seen: [String: Int] = [:]
        for (rowIndex, entry) in lines.dropFirst().enumerated() {
            let cells = try split(entry.text, delimiter: delimiter, file: file, line: entry.number)
            guard cells.count == columns.count else {
                throw CoreError.badManifestRow(
                    file: file, line: entry.number,
                    problem: "expected \(columns.count) fields (\(columns.joined(separator: ", "))), found \(cells.count)")
            }
            var fields: [String: String] = [:]
            for (name, value) in zip(columns, cells) { fields[name] = value.trimmingCharacters(in: .whitespaces) }
            for required in requiredColumns where (fields[required] ?? "").isEmpty {
                throw CoreError.badManifestRow(file: file, line: entry.number, problem: "the '\(required)' field is empty")
            }
            let id: String
            if let given = fields["id"], !given.isEmpty { id = given }
            else if let path = fields["path"], !path.isEmpty { id = (path as NSString).lastPathComponent }
            else { id = "row\(rowIndex)" }
            if let previous = seen[id] {
                throw CoreError.badManifestRow(
                    file: file, line: entry.number, problem: "id '\(id)' was already used on line \(previous); ids must be unique")
            }
            seen[id] = entry.number
            items.append(ManifestItem(id: id, index: rowIndex, line: entry.number, fields: fields, baseDirectory: base))
        }
        return Manifest(file: file, columns: columns, items: items)
    }

    /// One tab-separated manifest row, the inverse of `split`: a cell holding a tab, a quote or a
    /// line end is double-quoted (quotes doubled). For manifests BioEmbed writes itself.
    public static func tsvLine(_ cells: [String]) -> String {
        cells.map { cell in
            guard cell.contains(where: { $0 == "\t" || $0 == "\"" || TextLines.isLineEnd($0) }) else { return cell }
            return "\"" + cell.replacingOccurrences(of: "\"", with: "\"\"") + "\""
        }.joined(separator: "\t")
    }

    /// Splits one line; handles double-quoted fields.
    static func split(_ line: String, delimiter: Character, file: String, line number: Int) throws -> [String] {
        var cells: [String] = []
        var current = ""
        var inQuotes = false
        var index = line.startIndex
        while index < line.endIndex {
            let ch = line[index]
            if inQuotes {
                if ch == "\"" {
                    let next = line.index(after: index)
                    if next < line.endIndex && line[next] == "\"" {
                        current.append("\"")
                        index = next
                    } else {
                        inQuotes = false
                    }
                } else {
                    current.append(ch)
                }
            } else if ch == "\"" && current.trimmingCharacters(in: .whitespaces).isEmpty {
                current = ""
                inQuotes = true
            } else if ch == delimiter {
                cells.append(current)
                current = ""
            } else {
                current.append(ch)
            }
            index = line.index(after: index)
        }
        if inQuotes {
            throw CoreError.badManifestRow(file: file, line: number, problem: "a quoted field is not closed")
        }
        cells.append(current)
        return cells
    }
}

/// One row of a manifest.
public struct ManifestItem: Sendable, Hashable {
    public let id: String
    /// 0-based position among the data rows (the shard selector uses it).
    public let index: Int
    /// 1-based line number in the manifest file.
    public let line: Int
    public let fields: [String: String]
    /// Folder of the manifest; relative paths resolve against it.
    public let baseDirectory: String

    public init(id: String, index: Int, line: Int, fields: [String: String], baseDirectory: String) {
        self.id = id
        self.index = index
        self.line = line
        self.fields = fields
        self.baseDirectory = baseDirectory
    }

    /// The resolved path in `column` (default `path`), or nil when the column is absent or empty.
    public func path(_ column: String = "path") -> String? {
        guard let value = fields[column], !value.isEmpty else { return nil }
        return PathText.joined(baseDirectory, value)
    }
}
