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
        var parsed = SDFReader.split(bytes)
        if let damage {
            // The last record of a cut stream is incomplete unless it ended with `$$$$`.
            let tail = Array(bytes.suffix(6))
            let endsCleanly = [Array("$$$$\n".utf8), Array("$$$$\r\n".utf8), Array("$$$$".utf8)].contains { tail.suffix($0.count).elementsEqual($0) }
            if !endsCleanly, !parsed.isEmpty { parsed.removeLast() }
            truncation = (parsed.count, damage)
        } else {
            truncation = nil
        }
        records = parsed
    }

    /// Where a plain (uncompressed) SDF file can be cut into parts of `recordsPerPart` records: each
    /// part's byte range (starting after a `$$$$` line), its first record index and first line, and
    /// the file's record count, counted as `split` counts them (blank segments are no record). One
    /// streaming pass over the bytes; nil when the file cannot be read.
    public static func parts(path: String, recordsPerPart: Int) -> (parts: [SDFPart], records: Int)? {
        guard recordsPerPart > 0, let handle = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? handle.close() }
        var parts = [SDFPart(bytes: 0..<0, firstRecord: 0, firstLine: 1)]
        var records = 0
        var offset = 0            // bytes before `block`
        var line: [UInt8] = []    // the current line (carried across blocks)
        var lineNumber = 0
        var segmentHasText = false
        func endLine(at end: Int) {
            lineNumber += 1
            var content = line[...]
            if content.last == 0x0D { content = content.dropLast() }
            if content.starts(with: dollars) {
                if segmentHasText { records += 1 }
                segmentHasText = false
                if records > 0 && records % recordsPerPart == 0 && records != parts[parts.count - 1].firstRecord {
                    parts.append(SDFPart(bytes: end..<end, firstRecord: records, firstLine: lineNumber + 1))
                }
            } else if !segmentHasText && content.contains(where: { !isWhitespace($0) }) {
                segmentHasText = true
            }
            line.removeAll(keepingCapacity: true)
        }
        while true {
            guard let block = try? handle.read(upToCount: 8 << 20), !block.isEmpty else { break }
            block.withUnsafeBytes { raw in
                let bytes = raw.bindMemory(to: UInt8.self)
                var start = 0
                while start < bytes.count {
                    if let newline = bytes[start...].firstIndex(of: 0x0A) {
                        line.append(contentsOf: bytes[start..<newline])
                        endLine(at: offset + newline + 1)
                        start = newline + 1
                    } else {
                        line.append(contentsOf: bytes[start...])
                        start = bytes.count
                    }
                }
            }
            offset += block.count
        }
        if !line.isEmpty { endLine(at: offset) }
        if segmentHasText { records += 1 }
        // a part opened after the last record holds none; each part ends where the next begins,
        // the last at the end of the file
        if parts.count > 1, parts[parts.count - 1].firstRecord >= records { parts.removeLast() }
        for k in parts.indices {
            let end = k + 1 < parts.count ? parts[k + 1].bytes.lowerBound : offset
            parts[k].bytes = parts[k].bytes.lowerBound..<end
        }
        return (parts, records)
    }

    /// Reads the records of one part of a plain SDF file (see `parts(path:recordsPerPart:)`), with
    /// their file-wide record indices and line numbers.
    /// `file` names the input in messages (default: `path`; a decompressed copy names its `.gz`).
    public init(path: String, part: SDFPart, file: String? = nil) throws(MoleculeError) {
        self.file = file ?? path
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw MoleculeError.invalidInput(file: path, expected: "a readable SDF/MOL file", found: "a file that cannot be opened")
        }
        defer { try? handle.close() }
        var bytes: [UInt8] = []
        do {
            try handle.seek(toOffset: UInt64(part.bytes.lowerBound))
            bytes = [UInt8](try handle.read(upToCount: part.bytes.count) ?? Data())
        } catch {
            throw MoleculeError.invalidInput(file: path, expected: "a readable SDF/MOL file", found: "\(error)")
        }
        guard bytes.count == part.bytes.count else {
            throw MoleculeError.invalidInput(file: path, expected: "\(part.bytes.count) bytes from offset \(part.bytes.lowerBound)", found: "\(bytes.count) (the file changed while it was read)")
        }
        if bytes.contains(0) {
            throw MoleculeError.invalidInput(file: path, expected: "an SDF/MOL text file", found: "binary content (NUL bytes)")
        }
        records = SDFReader.split(bytes).map { record in
            var shifted = record
            shifted.index += part.firstRecord
            shifted.line += part.firstLine - 1
            return shifted
        }
        truncation = nil
    }

    /// Inflates a `.gz` SDF file into `destination` (written under a temporary name, then renamed);
    /// false when the stream is corrupt or truncated, or the copy cannot be written (nothing left).
    static func inflate(_ path: String, to destination: String) -> Bool {
        let partial = destination + ".partial-\(ProcessInfo.processInfo.processIdentifier)"
        let folder = (destination as NSString).deletingLastPathComponent
        try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        guard FileManager.default.createFile(atPath: partial, contents: nil),
              let handle = FileHandle(forWritingAtPath: partial) else { return false }
        var ok = true
        do {
            let reader = try CompressedFileReader(path)
            try reader.forEachBlock { try handle.write(contentsOf: Data($0)) }
        } catch {
            ok = false
        }
        try? handle.close()
        if ok { ok = (try? FileManager.default.moveItem(atPath: partial, toPath: destination)) != nil || FileManager.default.fileExists(atPath: destination) }
        try? FileManager.default.removeItem(atPath: partial)
        return ok
    }

    /// Splits SDF text into records (no file access; used by `init(path:)` and tests).
    public init(text: String, file: String) {
        self.file = file
        records = SDFReader.split(Array(text.utf8))
        truncation = nil
    }

    /// Splits SDF bytes into records in one pass over the bytes (lines end at `\n`, a trailing `\r`
    /// is dropped); only each record's MOL block, title and data items become strings.
    static func split(_ bytes: [UInt8]) -> [SDFRecord] {
        var records: [SDFRecord] = []
        var lines: [Range<Int>] = []
        var firstLine = 1
        var lineNumber = 0
        bytes.withUnsafeBufferPointer { b in
            func flush() {
                defer { lines.removeAll(keepingCapacity: true) }
                let blank = lines.allSatisfy { line in line.allSatisfy { isWhitespace(b[$0]) } }
                if !blank { records.append(makeRecord(b, lines, index: records.count, line: firstLine)) }
            }
            var start = 0
            let n = b.count
            while start <= n {
                var end = start
                while end < n && b[end] != 0x0A { end += 1 }
                if end == n && start == n { break }  // no text after the last newline
                lineNumber += 1
                let line = start..<(end > start && b[end - 1] == 0x0D ? end - 1 : end)
                if hasPrefix(b, line, dollars) {
                    flush()
                    firstLine = lineNumber + 1
                } else {
                    if lines.isEmpty { firstLine = lineNumber }
                    lines.append(line)
                }
                start = end + 1
            }
            flush()
        }
        return records
    }

    private static let dollars = Array("$$$$".utf8)
    private static let molEnd = Array("M  END".utf8)

    private static func isWhitespace(_ c: UInt8) -> Bool { c == 0x20 || (c >= 0x09 && c <= 0x0D) }

    private static func hasPrefix(_ b: UnsafeBufferPointer<UInt8>, _ line: Range<Int>, _ prefix: [UInt8]) -> Bool {
        line.count >= prefix.count && prefix.indices.allSatisfy { b[line.lowerBound + $0] == prefix[$0] }
    }

    private static func string(_ b: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> String {
        String(decoding: UnsafeBufferPointer(rebasing: b[range]), as: UTF8.self)
    }

    /// `lines` joined with `\n` (no trailing newline).
    private static func joined(_ b: UnsafeBufferPointer<UInt8>, _ lines: ArraySlice<Range<Int>>, trailingNewline: Bool) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(lines.reduce(0) { $0 + $1.count + 1 })
        for (i, line) in zip(lines.indices, lines) {
            if i > lines.startIndex { out.append(0x0A) }
            out.append(contentsOf: UnsafeBufferPointer(rebasing: b[line]))
        }
        if trailingNewline { out.append(0x0A) }
        return String(decoding: out, as: UTF8.self)
    }

    static func makeRecord(_ b: UnsafeBufferPointer<UInt8>, _ lines: [Range<Int>], index: Int, line: Int) -> SDFRecord {
        var end = lines.count
        for (i, l) in lines.enumerated() where hasPrefix(b, l, molEnd) {
            end = i + 1
            break
        }
        let block = joined(b, lines[0..<end], trailingNewline: true)
        var fields: [(name: String, value: String)] = []
        var i = end
        while i < lines.count {
            let l = lines[i]
            if !l.isEmpty, b[l.lowerBound] == UInt8(ascii: ">"),
               let open = l.first(where: { b[$0] == UInt8(ascii: "<") }),
               let close = (open..<l.upperBound).first(where: { b[$0] == UInt8(ascii: ">") }) {
                let name = string(b, (open + 1)..<close)
                let first = i + 1
                i += 1
                while i < lines.count, !lines[i].isEmpty { i += 1 }
                fields.append((name, joined(b, lines[first..<i], trailingNewline: false)))
            }
            i += 1
        }
        // another MOL block before the next `$$$$`: a record whose separator is missing
        let stray = lines[end...].firstIndex { hasPrefix(b, $0, molEnd) }
        return SDFRecord(index: index, line: line, title: lines.first.map { string(b, $0) } ?? "", molBlock: block, dataFields: fields,
                         strayBlockLine: stray.map { line + $0 })
    }
}
