import Testing
import _BioEmbedTestSupport

@testable import BioEmbedStructure

/// `CIFTokenizer.countValues` (eight bytes at a time over simple lines) agrees with calling
/// `next()` until a token is not a value: the same count, the same token after, the same line
/// numbers, the same error for a broken line, on random CIF-like text with quotes, comments, tags,
/// keywords, text fields, tabs, CRs and control bytes, starting anywhere in a line.
struct CIFTokenizerTests {
    static func randomText(_ rng: inout TestSupport.SplitMix) -> [UInt8] {
        let pieces = ["ATOM", "1", "-12.345", "N", "CA", "?", ".", "A", "'O5 x'", "\"a b\"", "O5'", "x_y", "#c",
                      "# comment", "_atom_site.id", "loop_", "data_x", "stop_", "HETATM", "1.00(2)", "\u{01}", "é",
                      "abcdefghijklmnop", "'unterminated"]
        let blanks = [" ", "  ", "\t", "   ", " \r"]
        var text = ""
        let lines = 1 + Int(abs(rng.nextDouble()) * 30)
        for _ in 0..<lines {
            let roll = abs(rng.nextDouble())
            if roll < 0.04 {
                text += ";text field\nstill text\n;"
            } else {
                let count = Int(abs(rng.nextDouble()) * 12)
                for k in 0..<count {
                    if k > 0 || abs(rng.nextDouble()) < 0.3 { text += blanks[Int(abs(rng.nextDouble()) * Double(blanks.count)) % blanks.count] }
                    // mostly plain values, sometimes anything
                    let plain = abs(rng.nextDouble()) < 0.85
                    let index = plain ? Int(abs(rng.nextDouble()) * 8) % 8 : Int(abs(rng.nextDouble()) * Double(pieces.count)) % pieces.count
                    text += pieces[index]
                }
            }
            text += abs(rng.nextDouble()) < 0.1 ? "\r\n" : "\n"
        }
        if abs(rng.nextDouble()) < 0.5 { text.removeLast() }
        return Array(text.utf8)
    }

    @Test func countValuesEqualsTokenByToken() {
        var rng = TestSupport.SplitMix(seed: 11)
        for trial in 0..<3_000 {
            let bytes = Self.randomText(&rng)
            bytes.withUnsafeBufferPointer { buffer in
                // start after a random number of tokens, as the reader does after the kept rows
                let skip = Int(abs(rng.nextDouble()) * 6)
                var slow = CIFTokenizer(buffer, file: "t.cif")
                var fast = CIFTokenizer(buffer, file: "t.cif")
                for _ in 0..<skip {
                    _ = try? slow.next()
                    _ = try? fast.next()
                }
                var expectedCount = 0
                var expected: Result<CIFTokenizer.Token, StructureError>
                while true {
                    do throws(StructureError) {
                        let t = try slow.next()
                        if t.kind == .value { expectedCount += 1; continue }
                        expected = .success(t)
                    } catch { expected = .failure(error) }
                    break
                }
                do {
                    let (count, t) = try fast.countValues()
                    guard case let .success(e) = expected else {
                        Issue.record("trial \(trial): expected an error, counted \(count)")
                        return
                    }
                    #expect(count == expectedCount && t.kind == e.kind && t.start == e.start && t.end == e.end && t.line == e.line,
                            "trial \(trial): \(count) vs \(expectedCount), \(t) vs \(e) in \(String(decoding: bytes, as: UTF8.self).debugDescription)")
                    #expect(fast.position == slow.position && fast.line == slow.line, "trial \(trial): position")
                } catch {
                    guard case let .failure(e) = expected else {
                        Issue.record("trial \(trial): unexpected \(error)")
                        return
                    }
                    #expect("\(error)" == "\(e)", "trial \(trial)")
                }
            }
        }
    }

    /// `plainLine` (a line split eight bytes at a time) after each value, as the mmCIF reader
    /// calls it, gives the same values (ranges and lines), the same token after them and the same
    /// error as `next()` alone.
    @Test func plainLinesEqualTokenByToken() {
        var rng = TestSupport.SplitMix(seed: 29)
        let capacity = 8   // small, so that long lines also take the fallback
        let starts = UnsafeMutablePointer<Int32>.allocate(capacity: capacity)
        let ends = UnsafeMutablePointer<Int32>.allocate(capacity: capacity)
        defer { starts.deallocate(); ends.deallocate() }
        var splitLines = 0
        for trial in 0..<3_000 {
            let bytes = Self.randomText(&rng)
            bytes.withUnsafeBufferPointer { buffer in
                func run(fast: Bool) -> (values: [[Int]], last: String) {
                    var tokenizer = CIFTokenizer(buffer, file: "t.cif")
                    var values: [[Int]] = []
                    while true {
                        let t: CIFTokenizer.Token
                        do throws(StructureError) { t = try tokenizer.next() } catch { return (values, "\(error)") }
                        guard t.kind == .value else { return (values, "\(t.kind) \(t.start) \(t.end) \(t.line)") }
                        values.append([t.start, t.end, t.line, t.quoted ? 1 : 0])
                        while fast, let found = tokenizer.plainLine(starts: starts, ends: ends, capacity: capacity) {
                            splitLines += 1
                            for v in 0..<found { values.append([Int(starts[v]), Int(ends[v]), tokenizer.line, 0]) }
                        }
                    }
                }
                let slow = run(fast: false), fast = run(fast: true)
                #expect(fast.values == slow.values && fast.last == slow.last,
                        "trial \(trial): \(String(decoding: bytes, as: UTF8.self).debugDescription)")
            }
        }
        #expect(splitLines > 1_000, "the fast path ran on \(splitLines) lines")
    }
}
