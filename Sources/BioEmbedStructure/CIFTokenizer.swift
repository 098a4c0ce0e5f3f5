/// A DDL2/STAR tokenizer for mmCIF text (no allocation per token).
///
/// Tokens are separated by whitespace; `#` starts a comment; `'…'` and `"…"` quote a value and
/// close only at a quote followed by whitespace (so `O5'` and `"O5'"` are single values); a `;` in
/// column 1 opens a text field closed by the next `;` in column 1; `loop_`, `data_…`, `save_…`,
/// `global_`, `stop_` are keywords; a token starting with `_` is a tag. Values are byte ranges of
/// the buffer (quotes and semicolons excluded). Cost: one pass over the bytes.
struct CIFTokenizer {
    enum Kind: UInt8 { case tag, value, loop, data, save, global, stop, end }

    struct Token {
        var kind: Kind
        var start: Int
        var end: Int
        /// Quoted or text-field value (`?` and `.` inside quotes are text, not null).
        var quoted: Bool
        /// 1-based line where the token starts.
        var line: Int
    }

    let bytes: UnsafeBufferPointer<UInt8>
    let file: String
    var position = 0
    var line = 1

    init(_ bytes: UnsafeBufferPointer<UInt8>, file: String) {
        self.bytes = bytes
        self.file = file
    }

    @inline(__always) static func isSpace(_ b: UInt8) -> Bool { b == 0x20 || b == 0x0A || b == 0x09 || b == 0x0D }

    mutating func next() throws(StructureError) -> Token {
        let n = bytes.count
        // skip whitespace and comments
        while position < n {
            let b = bytes[position]
            if b == 0x0A { line += 1; position += 1 }
            else if b == 0x20 || b == 0x09 || b == 0x0D { position += 1 }
            else if b == 0x23 {
                while position < n && bytes[position] != 0x0A { position += 1 }
            } else { break }
        }
        guard position < n else { return Token(kind: .end, start: n, end: n, quoted: false, line: line) }
        let start = position
        let b = bytes[start]
        let atLineStart = start == 0 || bytes[start - 1] == 0x0A
        if b == 0x3B && atLineStart {
            // text field: up to "\n;"
            let startLine = line
            var k = start + 1
            while k < n {
                if bytes[k] == 0x0A {
                    line += 1
                    if k + 1 < n && bytes[k + 1] == 0x3B {
                        var e = k
                        if e > start + 1 && bytes[e - 1] == 0x0D { e -= 1 }
                        position = k + 2
                        return Token(kind: .value, start: start + 1, end: e, quoted: true, line: startLine)
                    }
                }
                k += 1
            }
            throw .malformedLine(file: file, line: startLine, expected: "a text field closed by ';' at the start of a line", found: "end of file")
        }
        if b == 0x27 || b == 0x22 {
            var k = start + 1
            while k < n {
                let c = bytes[k]
                if c == 0x0A { break }
                if c == b && (k + 1 == n || CIFTokenizer.isSpace(bytes[k + 1])) {
                    position = k + 1
                    return Token(kind: .value, start: start + 1, end: k, quoted: true, line: line)
                }
                k += 1
            }
            throw .malformedLine(file: file, line: line, expected: "a closing \(b == 0x27 ? "'" : "\"") quote on the same line", found: "end of line")
        }
        var k = start
        while k < n && !CIFTokenizer.isSpace(bytes[k]) { k += 1 }
        position = k
        var kind = Kind.value
        if b == 0x5F { kind = .tag }
        else if k - start >= 5, (b | 0x20) == 0x6C || (b | 0x20) == 0x64 || (b | 0x20) == 0x73 || (b | 0x20) == 0x67 {
            if matches(start, k, "loop_") && k - start == 5 { kind = .loop }
            else if matches(start, k, "data_") { kind = .data }
            else if matches(start, k, "save_") { kind = .save }
            else if matches(start, k, "global_") && k - start == 7 { kind = .global }
        } else if k - start == 5 && matches(start, k, "stop_") { kind = .stop }
        return Token(kind: kind, start: start, end: k, quoted: false, line: line)
    }

    /// Counts the values that come next, up to the first token that is not a value (returned), as
    /// calling `next()` until then would, but lines that hold only unquoted values (no quote, `#`,
    /// `_` or leading `;`) are counted eight bytes at a time: the rest of a loop whose values are
    /// not kept (later models, other categories) is checked for whole rows without tokenizing it.
    mutating func countValues() throws(StructureError) -> (count: Int, next: Token) {
        var count = 0
        let n = bytes.count
        while true {
            while position < n, bytes[position] == 0x20 || bytes[position] == 0x09 || bytes[position] == 0x0D { position += 1 }
            if position < n && bytes[position] == 0x0A {
                position += 1
                line += 1
                while let (values, end) = simpleLine(from: position) {
                    count += values
                    position = end
                    guard end < n else { break }
                    position += 1   // the newline
                    line += 1
                }
                continue
            }
            let token = try next()
            guard token.kind == .value else { return (count, token) }
            count += 1
        }
    }

    /// The number of values on the line starting at `start`, and where it ends (its newline or the
    /// end of the buffer), when the line is simple (see `countValues`); nil otherwise.
    private func simpleLine(from start: Int) -> (values: Int, end: Int)? {
        let n = bytes.count
        guard let base = bytes.baseAddress, start < n, bytes[start] != 0x3B else { return nil }
        let highBits: UInt64 = 0x8080_8080_8080_8080
        @inline(__always) func equal(_ w: UInt64, _ c: UInt64) -> UInt64 {
            let v = w ^ (c &* 0x0101_0101_0101_0101)
            return ~(((v & 0x7F7F_7F7F_7F7F_7F7F) &+ 0x7F7F_7F7F_7F7F_7F7F) | v) & highBits
        }
        var values = 0
        var previousNonBlank: UInt64 = 0   // high bit of the last byte of the previous word, moved to bit 7
        var k = start
        while k &+ 8 <= n {
            let w = UnsafeRawPointer(base + k).loadUnaligned(as: UInt64.self)
            let special = equal(w, 0x27) | equal(w, 0x22) | equal(w, 0x23) | equal(w, 0x5F)
            let newline = equal(w, 0x0A)
            let inLine = newline == 0 ? UInt64.max : (newline & (~newline &+ 1)) &- 1   // bytes before the first newline
            if special & inLine != 0 { return nil }
            let nonBlank = ~(equal(w, 0x20) | equal(w, 0x09) | equal(w, 0x0D) | newline) & highBits & inLine
            values &+= (nonBlank & ~(nonBlank << 8 | previousNonBlank)).nonzeroBitCount
            if newline != 0 { return (values, k &+ newline.trailingZeroBitCount >> 3) }
            previousNonBlank = (nonBlank >> 56) & 0x80
            k &+= 8
        }
        // the last few bytes, one at a time
        var inValue = previousNonBlank != 0
        while k < n && bytes[k] != 0x0A {
            let b = bytes[k]
            if b == 0x27 || b == 0x22 || b == 0x23 || b == 0x5F { return nil }
            let blank = b == 0x20 || b == 0x09 || b == 0x0D
            if !blank && !inValue { values += 1 }
            inValue = !blank
            k += 1
        }
        return (values, k)
    }

    /// Splits the next line into its values, eight bytes at a time, when `position` is at the end
    /// of a line (blanks, then its newline) and the next line is simple (see `countValues`): writes
    /// the values' byte ranges to `starts`/`ends` (at most `capacity`), moves `position` to that
    /// line's end and returns the count; the values are those `next()` would return, all on line
    /// `line` (already advanced). nil (nothing moved) otherwise: not at a line end, a line that is
    /// not simple or holds more than `capacity` values.
    mutating func plainLine(starts: UnsafeMutablePointer<Int32>, ends: UnsafeMutablePointer<Int32>, capacity: Int) -> Int? {
        let n = bytes.count
        guard let base = bytes.baseAddress else { return nil }
        var p = position
        while p < n && (bytes[p] == 0x20 || bytes[p] == 0x09 || bytes[p] == 0x0D) { p += 1 }
        guard p < n, bytes[p] == 0x0A else { return nil }
        let lineStart = p + 1
        guard lineStart < n, bytes[lineStart] != 0x3B else { return nil }
        let highBits: UInt64 = 0x8080_8080_8080_8080
        @inline(__always) func equal(_ w: UInt64, _ c: UInt64) -> UInt64 {
            let v = w ^ (c &* 0x0101_0101_0101_0101)
            return ~(((v & 0x7F7F_7F7F_7F7F_7F7F) &+ 0x7F7F_7F7F_7F7F_7F7F) | v) & highBits
        }
        var startCount = 0, endCount = 0
        var previousNonBlank: UInt64 = 0   // high bit of the last byte of the previous word, at bit 7
        var k = lineStart
        var lineEnd = -1
        while k &+ 8 <= n {
            let w = UnsafeRawPointer(base + k).loadUnaligned(as: UInt64.self)
            let special = equal(w, 0x27) | equal(w, 0x22) | equal(w, 0x23) | equal(w, 0x5F)
            let newline = equal(w, 0x0A)
            let firstNewline = newline & (~newline &+ 1)
            let inLine = newline == 0 ? UInt64.max : firstNewline &- 1   // bytes before the first newline
            if special & inLine != 0 { return nil }
            let nonBlank = ~(equal(w, 0x20) | equal(w, 0x09) | equal(w, 0x0D) | newline) & highBits & inLine
            let before = nonBlank << 8 | previousNonBlank   // whether the byte before is in a value
            var startMask = nonBlank & ~before
            var endMask = ~nonBlank & before & highBits & (inLine | firstNewline)
            if startCount &+ startMask.nonzeroBitCount > capacity { return nil }
            while startMask != 0 {
                starts[startCount] = Int32(truncatingIfNeeded: k &+ startMask.trailingZeroBitCount >> 3)
                startCount &+= 1
                startMask &= startMask &- 1
            }
            while endMask != 0 {
                ends[endCount] = Int32(truncatingIfNeeded: k &+ endMask.trailingZeroBitCount >> 3)
                endCount &+= 1
                endMask &= endMask &- 1
            }
            if newline != 0 { lineEnd = k &+ newline.trailingZeroBitCount >> 3; break }
            previousNonBlank = (nonBlank >> 56) & 0x80
            k &+= 8
        }
        if lineEnd < 0 {
            // the last few bytes, one at a time
            var inValue = previousNonBlank != 0
            while k < n && bytes[k] != 0x0A {
                let b = bytes[k]
                if b == 0x27 || b == 0x22 || b == 0x23 || b == 0x5F { return nil }
                let blank = b == 0x20 || b == 0x09 || b == 0x0D
                if !blank && !inValue {
                    if startCount == capacity { return nil }
                    starts[startCount] = Int32(truncatingIfNeeded: k)
                    startCount += 1
                } else if blank && inValue {
                    ends[endCount] = Int32(truncatingIfNeeded: k)
                    endCount += 1
                }
                inValue = !blank
                k += 1
            }
            if inValue {
                ends[endCount] = Int32(truncatingIfNeeded: k)
                endCount += 1
            }
            lineEnd = k
        }
        position = lineEnd
        line += 1
        return startCount
    }

    /// Case-insensitive prefix match.
    func matches(_ start: Int, _ end: Int, _ keyword: StaticString) -> Bool {
        let count = keyword.utf8CodeUnitCount
        guard end - start >= count else { return false }
        let p = keyword.utf8Start
        for i in 0..<count where (bytes[start + i] | 0x20) != (p[i] | 0x20) { return false }
        return true
    }

    func text(_ token: Token) -> String {
        String(decoding: UnsafeBufferPointer(rebasing: bytes[token.start..<token.end]), as: UTF8.self)
    }
}
