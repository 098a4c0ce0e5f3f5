import Foundation

/// One element of a small XML document (the GIFTI file, the CIFTI-2 header extension), with its
/// attributes, child elements and character data.
///
/// `MarkupElement.parse` reads the subset of XML 1.0 those formats use: elements, attributes,
/// character data with the five predefined entities and character references, CDATA sections,
/// comments, processing instructions and a `DOCTYPE` without an internal subset. Everything that
/// can make a small file expensive is refused: entity declarations (and so entity expansion),
/// nesting deeper than `maximumDepth`, duplicate attributes.
public struct MarkupElement: Sendable {
    public var name: String
    public var attributes: [String: String]
    public var children: [MarkupElement]
    /// The character data directly inside this element (entities decoded), as bytes: a GIFTI data
    /// array's text can be tens of megabytes.
    public var text: [UInt8]

    /// The first child named `name`.
    public func child(_ name: String) -> MarkupElement? { children.first { $0.name == name } }
    /// Every child named `name`, in document order.
    public func children(_ name: String) -> [MarkupElement] { children.filter { $0.name == name } }
    /// The character data as a string, trimmed of surrounding white space.
    public var string: String {
        var slice = text[...]
        while let c = slice.first, Self.isSpace(c) { slice.removeFirst() }
        while let c = slice.last, Self.isSpace(c) { slice.removeLast() }
        return String(decoding: slice, as: UTF8.self)
    }

    /// Nesting beyond this is refused (GIFTI and CIFTI-2 need 6).
    public static let maximumDepth = 64

    /// Why a document could not be read: `offset` is the byte where the problem was found.
    public struct Failure: Error, CustomStringConvertible, Sendable, Equatable {
        public var offset: Int
        public var expected: String
        public var found: String
        public var description: String { "at byte \(offset): expected \(expected), found \(found)" }
    }

    /// Parses `bytes` and returns the root element.
    public static func parse(_ bytes: UnsafeRawBufferPointer) throws(Failure) -> MarkupElement {
        var parser = Parser(bytes: bytes)
        return try parser.document()
    }

    static func isSpace(_ c: UInt8) -> Bool { c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09 }
}

private struct Parser {
    let bytes: UnsafeRawBufferPointer
    var at = 0

    init(bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    func failure(_ expected: String, _ found: String? = nil) -> MarkupElement.Failure {
        let shown: String
        if let found { shown = found }
        else if at >= bytes.count { shown = "the end of the document" }
        else { shown = "'" + String(decoding: bytes[at..<min(bytes.count, at + 16)], as: UTF8.self).filter { !$0.isNewline } + "'" }
        return MarkupElement.Failure(offset: at, expected: expected, found: shown)
    }

    func starts(with literal: StaticString) -> Bool {
        let n = literal.utf8CodeUnitCount
        guard at + n <= bytes.count else { return false }
        let p = literal.utf8Start
        for i in 0..<n where bytes[at + i] != p[i] { return false }
        return true
    }

    mutating func skip(past literal: StaticString, what: String) throws(MarkupElement.Failure) {
        while at < bytes.count {
            if starts(with: literal) { at += literal.utf8CodeUnitCount; return }
            at += 1
        }
        throw failure("the end of \(what)")
    }

    mutating func skipSpace() { while at < bytes.count, MarkupElement.isSpace(bytes[at]) { at += 1 } }

    /// Prolog, root element, trailing comments.
    mutating func document() throws(MarkupElement.Failure) -> MarkupElement {
        if starts(with: "\u{FEFF}") { at += 3 }
        while true {
            skipSpace()
            if starts(with: "<?") { try skip(past: "?>", what: "a processing instruction") }
            else if starts(with: "<!--") { try skip(past: "-->", what: "a comment") }
            else if starts(with: "<!DOCTYPE") { try doctype() }
            else { break }
        }
        guard at < bytes.count, bytes[at] == UInt8(ascii: "<") else { throw failure("a root element") }
        let root = try element(depth: 1)
        while true {
            skipSpace()
            if starts(with: "<!--") { try skip(past: "-->", what: "a comment") }
            else if starts(with: "<?") { try skip(past: "?>", what: "a processing instruction") }
            else { break }
        }
        // Some writers pad the CIFTI extension with NULs after the document.
        while at < bytes.count, bytes[at] == 0 { at += 1 }
        guard at == bytes.count else { throw failure("nothing after the root element") }
        return root
    }

    /// A DOCTYPE naming an external DTD is skipped; an internal subset (entity declarations) is refused.
    mutating func doctype() throws(MarkupElement.Failure) {
        let start = at
        while at < bytes.count, bytes[at] != UInt8(ascii: ">") {
            if bytes[at] == UInt8(ascii: "[") {
                at = start
                throw failure("a DOCTYPE without an internal subset", "entity or element declarations (not read, by design)")
            }
            at += 1
        }
        guard at < bytes.count else { throw failure("the end of the DOCTYPE") }
        at += 1
    }

    mutating func name() throws(MarkupElement.Failure) -> String {
        let start = at
        while at < bytes.count {
            let c = bytes[at]
            if MarkupElement.isSpace(c) || c == UInt8(ascii: ">") || c == UInt8(ascii: "/") || c == UInt8(ascii: "=") || c == UInt8(ascii: "<") { break }
            at += 1
        }
        guard at > start else { throw failure("a name") }
        return String(decoding: bytes[start..<at], as: UTF8.self)
    }

    mutating func element(depth: Int) throws(MarkupElement.Failure) -> MarkupElement {
        guard depth <= MarkupElement.maximumDepth else {
            throw failure("at most \(MarkupElement.maximumDepth) levels of nesting", "deeper nesting")
        }
        at += 1  // "<"
        var element = MarkupElement(name: try name(), attributes: [:], children: [], text: [])
        while true {
            skipSpace()
            guard at < bytes.count else { throw failure("'>' closing <\(element.name)>") }
            if bytes[at] == UInt8(ascii: "/") {
                guard at + 1 < bytes.count, bytes[at + 1] == UInt8(ascii: ">") else { throw failure("'/>'") }
                at += 2
                return element
            }
            if bytes[at] == UInt8(ascii: ">") { at += 1; break }
            let key = try name()
            skipSpace()
            guard at < bytes.count, bytes[at] == UInt8(ascii: "=") else { throw failure("'=' after attribute \(key)") }
            at += 1
            skipSpace()
            guard at < bytes.count, bytes[at] == UInt8(ascii: "\"") || bytes[at] == UInt8(ascii: "'") else {
                throw failure("a quoted value for attribute \(key)")
            }
            let quote = bytes[at]
            at += 1
            var value: [UInt8] = []
            while at < bytes.count, bytes[at] != quote {
                if bytes[at] == UInt8(ascii: "<") { throw failure("no '<' inside attribute \(key)") }
                if bytes[at] == UInt8(ascii: "&") { try reference(into: &value) } else { value.append(bytes[at]); at += 1 }
            }
            guard at < bytes.count else { throw failure("the closing quote of attribute \(key)") }
            at += 1
            guard element.attributes.updateValue(String(decoding: value, as: UTF8.self), forKey: key) == nil else {
                throw failure("attribute \(key) once in <\(element.name)>", "it twice")
            }
        }
        // content
        while true {
            guard at < bytes.count else { throw failure("</\(element.name)>") }
            let c = bytes[at]
            if c == UInt8(ascii: "<") {
                if starts(with: "</") {
                    at += 2
                    let closing = try name()
                    skipSpace()
                    guard closing == element.name, at < bytes.count, bytes[at] == UInt8(ascii: ">") else {
                        throw failure("</\(element.name)>", "</\(closing)")
                    }
                    at += 1
                    return element
                } else if starts(with: "<!--") {
                    try skip(past: "-->", what: "a comment")
                } else if starts(with: "<![CDATA[") {
                    at += 9
                    let start = at
                    try skip(past: "]]>", what: "a CDATA section")
                    element.text.append(contentsOf: bytes[start..<(at - 3)])
                } else if starts(with: "<?") {
                    try skip(past: "?>", what: "a processing instruction")
                } else if starts(with: "<!") {
                    throw failure("an element, comment or CDATA section", "a declaration inside an element")
                } else {
                    element.children.append(try self.element(depth: depth + 1))
                }
            } else if c == UInt8(ascii: "&") {
                try reference(into: &element.text)
            } else {
                // character data up to the next markup or reference (memchr: data arrays are long)
                let base = bytes.baseAddress!
                let rest = bytes.count - at
                let lt = memchr(base + at, Int32(UInt8(ascii: "<")), rest).map { $0 - UnsafeMutableRawPointer(mutating: base) } ?? bytes.count
                let amp = memchr(base + at, Int32(UInt8(ascii: "&")), lt - at).map { $0 - UnsafeMutableRawPointer(mutating: base) } ?? lt
                element.text.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[at..<amp]))
                at = amp
            }
        }
    }

    /// `&lt;` and the other predefined entities, `&#N;`, `&#xN;`.
    mutating func reference(into out: inout [UInt8]) throws(MarkupElement.Failure) {
        let start = at
        at += 1
        while at < bytes.count, bytes[at] != UInt8(ascii: ";"), at - start < 12 { at += 1 }
        guard at < bytes.count, bytes[at] == UInt8(ascii: ";") else { at = start; throw failure("an entity reference ending in ';'") }
        let body = String(decoding: bytes[(start + 1)..<at], as: UTF8.self)
        at += 1
        switch body {
        case "lt": out.append(UInt8(ascii: "<"))
        case "gt": out.append(UInt8(ascii: ">"))
        case "amp": out.append(UInt8(ascii: "&"))
        case "quot": out.append(UInt8(ascii: "\""))
        case "apos": out.append(UInt8(ascii: "'"))
        default:
            var scalar: UInt32?
            if body.hasPrefix("#x") { scalar = UInt32(body.dropFirst(2), radix: 16) }
            else if body.hasPrefix("#") { scalar = UInt32(body.dropFirst(1)) }
            guard let value = scalar, let s = Unicode.Scalar(value) else {
                at = start
                throw failure("a predefined entity or a character reference", "'&\(body);' (entities are not expanded)")
            }
            out.append(contentsOf: Array(String(Character(s)).utf8))
        }
    }
}
