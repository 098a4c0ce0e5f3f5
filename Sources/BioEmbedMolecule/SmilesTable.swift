import BioEmbedCore
import Foundation

/// Molecules given as SMILES: `.smi`/`.smiles` files (`SMILES [name]` per line, whitespace
/// separated, an optional header line starting with `smiles`) and CSV/TSV tables with a header,
/// a SMILES column (named by `smilesColumn`, else the first of smiles, SMILES, canonical_smiles,
/// isomeric_smiles), an optional id column (`idColumn`, else id or name) and any other columns,
/// which become the row's data fields.
public struct SmilesTable {
    public struct Row: Sendable {
        /// 0-based position among the table's molecules.
        public var index: Int
        /// 1-based line in the file.
        public var line: Int
        public var id: String?
        public var smiles: String
        public var fields: [(name: String, value: String)]
    }

    public static let extensions = [".smi", ".smiles", ".csv", ".tsv"]
    static let smilesNames = ["smiles", "SMILES", "canonical_smiles", "isomeric_smiles", "Smiles"]
    static let idNames = ["id", "ID", "name", "Name"]

    public static func isTable(_ path: String) -> Bool {
        let lower = path.lowercased()
        return extensions.contains { lower.hasSuffix($0) }
    }

    public static func read(_ path: String, smilesColumn: String?, idColumn: String?) throws -> [Row] {
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw CoreError.unreadable(file: path, reason: FileManager.default.fileExists(atPath: path) ? "not UTF-8 text" : "no such file")
        }
        let lower = path.lowercased()
        if lower.hasSuffix(".smi") || lower.hasSuffix(".smiles") { return smiFile(text) }
        let table = try Manifest.parse(text, file: path, requiredColumns: [])
        guard let smiles = smilesColumn ?? smilesNames.first(where: table.columns.contains) else {
            throw CoreError.missingColumn(file: path, column: smilesColumn ?? "smiles", found: table.columns)
        }
        guard table.columns.contains(smiles) else { throw CoreError.missingColumn(file: path, column: smiles, found: table.columns) }
        if let idColumn, !table.columns.contains(idColumn) { throw CoreError.missingColumn(file: path, column: idColumn, found: table.columns) }
        let id = idColumn ?? idNames.first(where: table.columns.contains)
        return table.items.enumerated().map { index, item in
            Row(index: index, line: item.line, id: id.flatMap { item.fields[$0] }.flatMap { $0.isEmpty ? nil : $0 },
                smiles: item.fields[smiles] ?? "",
                fields: table.columns.filter { $0 != smiles && $0 != id }.map { ($0, item.fields[$0] ?? "") })
        }
    }

    static func smiFile(_ text: String) -> [Row] {
        var rows: [Row] = []
        for (index, raw) in TextLines.split(text).enumerated() {
            let parts = raw.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            guard let first = parts.first, !first.hasPrefix("#") else { continue }
            if rows.isEmpty && first.lowercased() == "smiles" { continue }   // a header line
            rows.append(Row(index: rows.count, line: index + 1, id: parts.count > 1 ? parts[1] : nil, smiles: first,
                            fields: parts.count > 2 ? [("rest", parts[2...].joined(separator: " "))] : []))
        }
        return rows
    }
}
