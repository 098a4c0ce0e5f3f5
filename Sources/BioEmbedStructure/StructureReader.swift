import BioEmbedCore
import BioEmbedHDF5
import Foundation

/// Reads a PDB or mmCIF file, plain or gzip-compressed, into a `StructureModel`.
///
/// The format comes from the name (`.pdb`/`.ent` vs `.cif`/`.mmcif`, `.gz` stripped) and, when the
/// name says nothing, from the content (a `data_` block means mmCIF). Empty files, binary content
/// (NUL or many control bytes in the first 4 KiB) and corrupt or truncated gzip streams are errors
/// naming the file.
public enum StructureReader {
    /// Reads `path`. `allModels: false` stops after the first model.
    public static func read(_ path: String, allModels: Bool = false) throws(StructureError) -> StructureModel {
        try read(path, member: nil, allModels: allModels)
    }

    /// Reads `path`, or the tar `member` of the archive at `path` in place (format from the
    /// member's name; messages name `<archive>/<member>`).
    public static func read(_ path: String, member: TarArchive.Member?, allModels: Bool = false) throws(StructureError) -> StructureModel {
        let name = member.map { "\(path)/\($0.name)" } ?? path
        var buffer = ContentBuffer()
        defer { buffer.deallocate() }
        do {
            try buffer.load(path, range: member.map { ByteRange(offset: $0.offset, length: $0.size) })
        } catch let error as HDF5Error {
            if case .missingFile = error { throw .unreadable(file: path, reason: "no such file") }
            if case let .call(_, _, _, detail) = error {
                throw .unreadable(file: name, reason: "corrupt or truncated gzip stream (\(detail))")
            }
            throw .unreadable(file: name, reason: "corrupt or truncated gzip stream (\(error))")
        } catch {
            throw .unreadable(file: name, reason: "\(error)")
        }
        return try parse(buffer.content, file: name, format: StructureFormat.fromName(member?.name ?? path), allModels: allModels)
    }

    /// Parses in-memory content. `format` nil: detected from the content.
    public static func parse(_ bytes: UnsafeBufferPointer<UInt8>, file: String, format: StructureFormat?, allModels: Bool) throws(StructureError) -> StructureModel {
        var nonBlank = false
        for b in bytes where !CIFTokenizer.isSpace(b) { nonBlank = true; break }
        guard nonBlank else {
            throw .invalidInput(file: file, expected: "PDB or mmCIF text", found: bytes.isEmpty ? "an empty file" : "only blank lines")
        }
        let probe = min(bytes.count, 4096)
        var control = 0
        for i in 0..<probe {
            let b = bytes[i]
            if b == 0 {
                throw .invalidInput(file: file, expected: "PDB or mmCIF text", found: "binary data (a NUL byte at offset \(i))")
            }
            if b < 0x09 || (b > 0x0D && b < 0x20) || b == 0x7F { control += 1 }
        }
        if control * 20 > probe {
            throw .invalidInput(file: file, expected: "PDB or mmCIF text", found: "binary data (\(control) control bytes in the first \(probe))")
        }
        let chosen = format ?? detect(bytes)
        switch chosen {
        case .pdb: return try PDBReader.read(bytes, file: file, allModels: allModels)
        case .mmcif: return try MMCIFReader.read(bytes, file: file, allModels: allModels)
        }
    }

    /// mmCIF when the first non-comment, non-blank line starts with `data_`.
    static func detect(_ bytes: UnsafeBufferPointer<UInt8>) -> StructureFormat {
        var i = 0
        let n = bytes.count
        while i < n {
            while i < n && CIFTokenizer.isSpace(bytes[i]) { i += 1 }
            guard i < n else { break }
            if bytes[i] == 0x23 {
                while i < n && bytes[i] != 0x0A { i += 1 }
                continue
            }
            if i + 5 <= n && (bytes[i] | 0x20) == 0x64 && (bytes[i + 1] | 0x20) == 0x61 && (bytes[i + 2] | 0x20) == 0x74
                && (bytes[i + 3] | 0x20) == 0x61 && bytes[i + 4] == 0x5F {
                return .mmcif
            }
            break
        }
        return .pdb
    }
}
