import Foundation
import Testing
import _BioEmbedTestSupport

@testable import BioEmbedCore

struct SHA256Tests {
    /// FIPS 180-4 / NIST example vectors.
    @Test func knownVectors() {
        #expect(SHA256.hex(Array("".utf8)) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(SHA256.hex(Array("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(SHA256.hex(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8))
            == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        var hasher = SHA256()
        let block = [UInt8](repeating: UInt8(ascii: "a"), count: 1000)
        for _ in 0..<1000 { hasher.update(block) }
        #expect(hasher.finalizeHex() == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    /// Splitting the input anywhere gives the same digest.
    @Test func streamingIsSplitInvariant() {
        let data = (0..<300).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let whole = SHA256.hex(data)
        for split in [0, 1, 55, 56, 63, 64, 65, 128, 299, 300] {
            var hasher = SHA256()
            hasher.update(data[..<split])
            hasher.update(data[split...])
            #expect(hasher.finalizeHex() == whole, "split at \(split)")
        }
    }
}

struct ManifestTests {
    @Test func parsesTSVAndCSVWithQuotesCommentsAndRelativePaths() throws {
        let tsv = try Manifest.parse("# comment\nid\tpath\n\na\tdata/a.nii.gz\nb\t/abs/b.nii\n", file: "study/manifest.tsv")
        #expect(tsv.columns == ["id", "path"])
        #expect(tsv.items.map(\.id) == ["a", "b"])
        #expect(tsv.items[0].path() == "study/data/a.nii.gz")
        #expect(tsv.items[1].path() == "/abs/b.nii")
        #expect(tsv.items[0].line == 4 && tsv.items[1].index == 1)
        let csv = try Manifest.parse("path,note\n\"x, y.pdb\",\"say \"\"hi\"\"\"\n../z.pdb,\n", file: "m.csv")
        #expect(csv.items.map(\.id) == ["x, y.pdb", "z.pdb"])
        #expect(csv.items[0].fields["note"] == "say \"hi\"")
        #expect(csv.items[1].path() == "../z.pdb")
    }

    @Test func problemsNameTheFileAndLine() {
        #expect(throws: CoreError.badManifestRow(file: "m.tsv", line: 3, problem: "expected 2 fields (id, path), found 1")) {
            try Manifest.parse("id\tpath\na\tx\nb\n", file: "m.tsv")
        }
        #expect(throws: CoreError.missingColumn(file: "m.tsv", column: "path", found: ["id", "file"])) {
            try Manifest.parse("id\tfile\na\tx\n", file: "m.tsv")
        }
        #expect(throws: CoreError.badManifestRow(file: "m.tsv", line: 3, problem: "id 'a' was already used on line 2; ids must be unique")) {
            try Manifest.parse("id\tpath\na\tx\na\ty\n", file: "m.tsv")
        }
        #expect(throws: CoreError.badManifestRow(file: "m.tsv", line: 2, problem: "the 'path' field is empty")) {
            try Manifest.parse("id\tpath\na\t\n", file: "m.tsv")
        }
        #expect(throws: CoreError.badManifestRow(file: "m.csv", line: 2, problem: "a quoted field is not closed")) {
            try Manifest.parse("id,path\na,\"x\n", file: "m.csv")
        }
        #expect(throws: CoreError.self) { try Manifest.load("/nonexistent/manifest.tsv") }
    }

    @Test func pathsNormaliseLexically() {
        #expect(PathText.joined("pipelines", "../out/demo") == "out/demo")
        #expect(PathText.joined("/a/b", "./c/../d") == "/a/b/d")
        #expect(PathText.joined("", "x/./y") == "x/y")
        #expect(PathText.joined("a", "../../x") == "../x")
        #expect(PathText.joined("/a", "/abs") == "/abs")
    }

    @Test func progressDurationsReadWell() {
        #expect(ProgressReporter.duration(42) == "42s")
        #expect(ProgressReporter.duration(187) == "3m07s")
        #expect(ProgressReporter.duration(3720) == "1h02m")
    }
}

/// Small JSON objects read back by Foundation's parser: keys sorted, first of a repeated key kept,
/// quotes, backslashes, control characters and non-ASCII text intact.
@Suite
struct JSONTextTests {
    @Test func objectsParseBackToTheirPairs() throws {
        let pairs = [("zeta", "a \"quoted\" \\ path/x"), ("alpha", "line\nbreak\ttab\u{01}"), ("alpha", "second"), ("é", "ü→")]
        let text = JSONText.object(pairs)
        #expect(text.hasPrefix("{\"alpha\":"))
        let parsed = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: String]
        #expect(parsed == ["zeta": "a \"quoted\" \\ path/x", "alpha": "line\nbreak\ttab\u{01}", "é": "ü→"])
        #expect(JSONText.object([]) == "{}")
    }
}

struct FileHashCacheTests {
    /// Hashes come back from the stored cache without re-reading unchanged files; a changed file is
    /// re-read; entries of deleted files are dropped when the cache is written; paths with spaces
    /// survive the text format; a malformed line is skipped.
    @Test func remembersPrunesAndRehashes() throws {
        let folder = TestSupport.temporaryDirectory("hashcache")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let a = folder + "/a file.txt", b = folder + "/b.txt", store = folder + "/state/hashes.txt"
        try Data("alpha".utf8).write(to: URL(fileURLWithPath: a))
        try Data("beta".utf8).write(to: URL(fileURLWithPath: b))
        final class Counter: @unchecked Sendable { var reads: [String] = []; let lock = NSLock() }
        let counter = Counter()
        let hasher: @Sendable (String) throws -> String = { path in
            counter.lock.lock(); counter.reads.append((path as NSString).lastPathComponent); counter.lock.unlock()
            return try SHA256.hex(ofFile: path)
        }
        let first = FileHashCache(location: store, hasher: hasher)
        let ha = try first.sha256(of: a), hb = try first.sha256(of: b)
        #expect(ha == SHA256.hex(Array("alpha".utf8)) && hb == SHA256.hex(Array("beta".utf8)))
        first.save()
        #expect(counter.reads == ["a file.txt", "b.txt"])

        // A second run reads nothing; appending junk to the store does not lose the good lines.
        let handle = try #require(FileHandle(forWritingAtPath: store))
        handle.seekToEndOfFile(); handle.write(Data("not a cache line\n".utf8)); try handle.close()
        let second = FileHashCache(location: store, hasher: hasher)
        #expect(second.count == 2)
        #expect(try second.sha256(of: a) == ha && second.sha256(of: b) == hb)
        #expect(counter.reads.count == 2)

        // b changes (size), and a disappears: b is re-read, a's entry is dropped on save.
        try Data("beta, changed".utf8).write(to: URL(fileURLWithPath: b))
        try FileManager.default.removeItem(atPath: a)
        let third = FileHashCache(location: store, hasher: hasher)
        #expect(try third.sha256(of: b) == SHA256.hex(Array("beta, changed".utf8)))
        #expect(counter.reads == ["a file.txt", "b.txt", "b.txt"])
        third.save()
        let fourth = FileHashCache(location: store, hasher: hasher)
        #expect(fourth.count == 1)
    }
}
