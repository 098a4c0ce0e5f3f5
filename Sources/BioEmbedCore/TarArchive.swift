import Foundation

/// The regular-file members of a tar archive (POSIX ustar, GNU and pax; the layout of AlphaFold
/// DB's bulk shards), found by walking the 512-byte headers and seeking over the contents: an
/// archive is never extracted; a member is a byte range of the archive, which readers read in
/// place (`CompressedFileReader(path, range:)`).
///
/// Names come from the header (ustar `prefix/name`), a GNU long-name record (`L`) or a pax `path`
/// record (`x`); directories, links and other entry types are skipped. Every size is checked
/// against the archive's real size before it is used, and a header whose checksum does not match
/// is an error naming the archive and the byte offset.
public enum TarArchive {
    public struct Member: Sendable, Hashable {
        public var name: String
        /// Byte offset of the member's content in the archive.
        public var offset: Int
        public var size: Int
    }

    static let block = 512
    /// Long names and pax records larger than this are refused (they are a few hundred bytes).
    static let maxMetadata = 1 << 20

    /// Whether `path` names a tar archive (by its suffix).
    public static func isArchive(_ path: String) -> Bool { path.lowercased().hasSuffix(".tar") }

    /// The archive's regular files, in archive order.
    public static func members(_ path: String) throws -> [Member] {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw CoreError.unreadable(file: path, reason: FileManager.default.fileExists(atPath: path) ? "permission denied" : "no such file")
        }
        defer { try? handle.close() }
        let total = Int((try? handle.seekToEnd()) ?? 0)
        var members: [Member] = []
        var offset = 0
        var longName: String? = nil
        while offset + block <= total {
            try handle.seek(toOffset: UInt64(offset))
            guard let header = try handle.read(upToCount: block), header.count == block else {
                throw CoreError.unreadable(file: path, reason: "tar header at byte \(offset) could not be read")
            }
            if header.allSatisfy({ $0 == 0 }) { break }   // the end-of-archive blocks
            let bytes = [UInt8](header)
            guard checksumMatches(bytes) else {
                throw CoreError.unreadable(file: path, reason: "expected a tar header at byte \(offset), found bytes whose checksum does not match (not a tar archive, or corrupt)")
            }
            guard let size = number(bytes[124..<136]) else {
                throw CoreError.unreadable(file: path, reason: "tar header at byte \(offset): expected an octal size, found '\(text(bytes[124..<136]))'")
            }
            let content = offset + block
            guard size >= 0, size <= total - content else {
                throw CoreError.unreadable(file: path, reason: "tar header at byte \(offset): member of \(size) bytes, but the archive ends \(total - content) bytes later (truncated)")
            }
            let type = bytes[156]
            switch type {
            case UInt8(ascii: "L"), UInt8(ascii: "x"):
                guard size <= maxMetadata else {
                    throw CoreError.unreadable(file: path, reason: "tar header at byte \(offset): a name record of \(size) bytes (at most \(maxMetadata))")
                }
                try handle.seek(toOffset: UInt64(content))
                let data = [UInt8](try handle.read(upToCount: size) ?? Data())
                longName = type == UInt8(ascii: "L") ? text(data[...]) : paxPath(data) ?? longName
            case 0, UInt8(ascii: "0"), UInt8(ascii: "7"):
                var name = text(bytes[0..<100])
                let prefix = text(bytes[345..<500])
                if bytes[257..<262].elementsEqual("ustar".utf8), !prefix.isEmpty { name = prefix + "/" + name }
                members.append(Member(name: longName ?? name, offset: content, size: size))
                longName = nil
            default:
                longName = nil
            }
            offset = content + (size + block - 1) / block * block
        }
        if offset > total || (offset < total && total - offset < block) {
            throw CoreError.unreadable(file: path, reason: "expected \(offset) bytes or more (whole 512-byte blocks), found \(total) (truncated)")
        }
        return members
    }

    static func checksumMatches(_ header: [UInt8]) -> Bool {
        guard let stored = number(header[148..<156]) else { return false }
        var sum = 0
        for (i, b) in header.enumerated() { sum += (148..<156).contains(i) ? 0x20 : Int(b) }
        return sum == stored
    }

    /// An octal field (NUL/space terminated), or GNU base-256 (high bit of the first byte set).
    static func number(_ field: ArraySlice<UInt8>) -> Int? {
        guard let first = field.first else { return nil }
        if first & 0x80 != 0 {
            var value = 0
            for (k, b) in field.enumerated() {
                let byte = k == 0 ? Int(b & 0x7F) : Int(b)
                guard value <= (Int.max >> 8) else { return nil }
                value = value << 8 | byte
            }
            return value
        }
        var value = 0, digits = 0
        for b in field {
            if b == 0 || b == 0x20 { if digits > 0 { break } else { continue } }
            guard b >= 0x30 && b <= 0x37, value <= (Int.max >> 3) else { return nil }
            value = value << 3 | Int(b - 0x30)
            digits += 1
        }
        return value
    }

    static func text(_ field: ArraySlice<UInt8>) -> String {
        String(decoding: field.prefix { $0 != 0 }, as: UTF8.self)
    }

    /// The `path` of a pax extended header ("<length> path=<value>\n" records).
    static func paxPath(_ data: [UInt8]) -> String? {
        for record in String(decoding: data, as: UTF8.self).split(separator: "\n") {
            guard let space = record.firstIndex(of: " ") else { continue }
            let pair = record[record.index(after: space)...]
            if pair.hasPrefix("path=") { return String(pair.dropFirst(5)) }
        }
        return nil
    }
}

extension TarArchive {
    /// The manifest columns that name a member; a member item's `path` is its archive.
    public enum Column: String, CaseIterable, Sendable {
        case member, offset = "member_offset", size = "member_size"
    }

    /// One item per member of the archive at `item`'s path whose name ends with one of
    /// `extensions` (any member when empty): id `<item id>/<member name>`, the member's name,
    /// offset and size in the `Column`s. An item that is not an archive is returned as it is.
    public static func memberItems(_ item: ManifestItem, extensions: [String]) throws -> [ManifestItem] {
        guard let path = item.path(), isArchive(path) else { return [item] }
        return try members(path).compactMap { member in
            let lower = member.name.lowercased()
            guard extensions.isEmpty || extensions.contains(where: { lower.hasSuffix($0) }) else { return nil }
            var fields = item.fields
            fields[Column.member.rawValue] = member.name
            fields[Column.offset.rawValue] = String(member.offset)
            fields[Column.size.rawValue] = String(member.size)
            return ManifestItem(id: "\(item.id)/\(member.name)", index: item.index, line: item.line, fields: fields, baseDirectory: item.baseDirectory)
        }
    }

    /// The member an item names (`memberItems`), nil for a plain file.
    public static func member(of item: ManifestItem) -> Member? {
        guard let name = item.fields[Column.member.rawValue], let offset = item.fields[Column.offset.rawValue].flatMap({ Int($0) }),
              let size = item.fields[Column.size.rawValue].flatMap({ Int($0) }), offset >= 0, size >= 0 else { return nil }
        return Member(name: name, offset: offset, size: size)
    }
}
