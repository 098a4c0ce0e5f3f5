import BioEmbedHDF5
import Foundation

/// Splits SDF / MOL text into records the way RDKit's `SDMolSupplier` does: a record ends at a
/// line starting with `$$$$`; a last record without one is still a record; blank trailing text is
/// not. The MOL block of each record (through `M  END`) goes to RDKit unchanged; the data items
/// after it are parsed here (`> <name>` header, value lines up to a blank line).
///
/// `.gz` files are inflated transparently. A truncated or corrupt gzip stream keeps the complete
/// records read before the damage and reports the damage in `truncation` (naming the record that
/// was cut). Complexity O(file size); the whole decompressed text is held once.
public struct SDFReader: Sendable {
    public let file: String
    public let records: [SDFRecord]
    /// Why the file ended early (a corrupt or truncated gzip stream), with the index of the first
    /// record that is missing or incomplete; nil when the file was read to its end.
    public let truncation: (record: Int, reason: String)?

    /// Reads and splits `path`; `file` names it in messages (default: the path).
    public init(path: String) throws(MoleculeError) {
        file = path
        var bytes: [UInt8] = []
        var damage: String?
        do {
            let reader = try CompressedFileReader(path)
            do {
                try reader.forEachBlock { bytes.append(contentsOf: $0) }
            } catch let HDF5Error.call(_, _, operation, detail) {
                damage = "the gzip stream is truncated or corrupt (\(operation): \(detail))"
            } catch {
                damage = "the gzip stream is truncated or corrupt (\(error))"
            }
        } catch {
            throw MoleculeError.invalidInput(file: path, expected: "a readable SDF/MOL file", found: "\(error)")
        }
        if bytes.contains(0) && damage == nil {
            throw MoleculeError.invalidInput(file: path, expected: "an SDF/MOL text file", found: "binary content (NUL bytes)")
        }
        let text = String(decoding: bytes, as: UTF8.self)
        var parsed = SDFReader.split(text)
        if let damage {
            // The last record of a cut stream is incomplete unless it ended with `$$$$`.
            let endsCleanly = text.hasSuffix("$$$$\n") || text.hasSuffix("$$$$\r\n") || text.hasSuffix("$$$$")
            if !endsCleanly, !parsed.isEmpty { parsed.removeLast() }
            truncation = (parsed.count, damage)
        } else {
            truncation = nil
        }
        records = parsed
    }

    /// Splits SDF text into records (no file access; used by `init(path:)` and tests).
    public init(text: String, file: String) {
        self.file = file
        records = SDFReader.split(text)
        truncation = nil
    }

    static func split(_ text: String) -> [SDFRecord] {
        var records: [SDFRecord] = []
        var lines: [Substring] = []
        var firstLine = 1
        var lineNumber = 0
        func flush() {
            defer { lines.removeAll(keepingCapacity: true) }
            guard lines.contains(where: { !$0.allSatisfy(\.isWhitespace) }) else { return }
            records.append(makeRecord(lines, index: records.count, line: firstLine))
        }
        for raw in text.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNumber += 1
            let line = raw.hasSuffix("\r") ? raw.dropLast() : raw
            if line.hasPrefix("$$$$") {
                flush()
                firstLine = lineNumber + 1
                continue
            }
            if lines.isEmpty { firstLine = lineNumber }
            lines.append(line)
        }
        flush()
        return records
    }

    static func makeRecord(_ lines: [Substring], index: Int, line: Int) -> SDFRecord {
        var end = lines.count
        for (i, l) in lines.enumerated() where l.hasPrefix("M  END") {
            end = i + 1
            break
        }
        let block = lines[0..<end].joined(separator: "\n") + "\n"
        var fields: [(name: String, value: String)] = []
        var i = end
        while i < lines.count {
            let l = lines[i]
            if l.hasPrefix(">"), let open = l.firstIndex(of: "<"), let close = l[open...].firstIndex(of: ">") {
                let name = String(l[l.index(after: open)..<close])
                var values: [Substring] = []
                i += 1
                while i < lines.count, !lines[i].isEmpty {
                    values.append(lines[i])
                    i += 1
                }
                fields.append((name, values.joined(separator: "\n")))
            }
            i += 1
        }
        return SDFRecord(index: index, line: line, title: lines.first.map(String.init) ?? "", molBlock: block, dataFields: fields)
    }
}
