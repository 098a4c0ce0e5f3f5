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
        var buffer = ContentBuffer()
        defer { buffer.deallocate() }
        do {
            try buffer.load(path)
        } catch let error as HDF5Error {
            if case .missingFile = error { throw .unreadable(file: path, reason: "no such file") }
            if case let .call(_, _, _, detail) = error {
                throw .unreadable(file: path, reason: "corrupt or truncated gzip stream (\(detail))")
            }
            throw .unreadable(file: path, reason: "corrupt or truncated gzip stream (\(error))")
        } catch {
            throw .unreadable(file: path, reason: "\(error)")
        }
        return try parse(buffer.content, file: path, format: StructureFormat.fromName(path), allModels: allModels)
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

/// The whole (decompressed) content of a file in one buffer sized from the file size and, for gzip,
/// the ISIZE trailer (so a file is read with one allocation, not a growing array).
struct ContentBuffer {
    private var base: UnsafeMutableRawPointer? = nil
    private var capacity = 0
    private var count = 0

    var content: UnsafeBufferPointer<UInt8> {
        guard let base else { return UnsafeBufferPointer(start: nil, count: 0) }
        return UnsafeBufferPointer(start: base.assumingMemoryBound(to: UInt8.self), count: count)
    }

    mutating func load(_ path: String) throws {
        let reader = try CompressedFileReader(path)
        var expected = 1 << 16
        if let handle = FileHandle(forReadingAtPath: path) {
            defer { try? handle.close() }
            let size = Int((try? handle.seekToEnd()) ?? 0)
            if reader.isCompressed && size >= 18 {
                try? handle.seek(toOffset: UInt64(size - 4))
                if let tail = try? handle.read(upToCount: 4), tail.count == 4 {
                    let isize = Int(tail[tail.startIndex]) | Int(tail[tail.startIndex + 1]) << 8
                        | Int(tail[tail.startIndex + 2]) << 16 | Int(tail[tail.startIndex + 3]) << 24
                    expected = max(expected, isize + 1)   // ISIZE is mod 2^32; growth covers the rest
                }
            } else {
                expected = max(expected, size + 1)
            }
        }
        grow(to: expected)
        while true {
            if count == capacity { grow(to: capacity * 2) }
            guard let base else { return }
            let n = try reader.read(into: UnsafeMutableRawBufferPointer(start: base + count, count: capacity - count))
            if n == 0 { break }
            count += n
        }
    }

    private mutating func grow(to newCapacity: Int) {
        let fresh = UnsafeMutableRawPointer.allocate(byteCount: newCapacity, alignment: 16)
        if let base {
            fresh.copyMemory(from: base, byteCount: count)
            base.deallocate()
        }
        base = fresh
        capacity = newCapacity
    }

    func deallocate() { base?.deallocate() }
}
