import Foundation

/// The small JSON record that says which items an output file holds, keyed by content: the source
/// of truth for resuming. A file without its record is incomplete and is redone.
///
/// An item's `key` is the SHA-256 of the stage name, stage version, parameters and the content
/// hashes of the item's input files (plus the manifest row), so `--resume` redoes exactly what
/// changed, never by time stamps alone.
public struct DoneRecord: Codable, Sendable, Equatable {
    /// A collection item that failed while its input as a whole was processed (one bad SDF record).
    public struct Failure: Codable, Sendable, Equatable {
        public var id: String
        public var category: String
        public var message: String
        public init(id: String, category: String, message: String) {
            self.id = id
            self.category = category
            self.message = message
        }
    }

    public struct Item: Codable, Sendable, Equatable {
        public var id: String
        public var key: String
        /// `done` or `failed`.
        public var status: String
        public var category: String?
        public var message: String?
        /// Ids of the collection items this input produced (several for multi-record inputs).
        public var outputs: [String]?
        public var failures: [Failure]?

        public init(id: String, key: String, status: String, category: String? = nil, message: String? = nil,
                    outputs: [String]? = nil, failures: [Failure]? = nil) {
            self.id = id
            self.key = key
            self.status = status
            self.category = category
            self.message = message
            self.outputs = outputs
            self.failures = failures
        }
    }

    public var format = "bioembed-done/1"
    public var stage: String
    /// The HDF5 file this record describes (its name, relative to the record's folder).
    public var file: String
    public var items: [Item]

    public init(stage: String, file: String, items: [Item]) {
        self.stage = stage
        self.file = file
        self.items = items
    }

    public static func load(_ path: String) -> DoneRecord? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        return try? JSONDecoder().decode(DoneRecord.self, from: data)
    }

    /// Writes the record atomically (temporary file, fsync, rename).
    public func save(_ path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        guard AtomicFile.write(try encoder.encode(self), to: path, durable: true) else {
            throw CoreError.unreadable(file: path, reason: "cannot write the done record")
        }
    }

    /// The content key of one item.
    ///
    /// - Parameters:
    ///   - inputHashes: column → content hash, for the columns that name input files (their path
    ///     text is left out, so moving the data does not force a redo).
    /// Columns that only locate an input's bytes (a tar member's offset and size).
    static let locationColumns: Set<String> = [TarArchive.Column.offset.rawValue, TarArchive.Column.size.rawValue]

    public static func key(stage: String, version: Int, parameters: String, item: ManifestItem, inputHashes: [String: String]) -> String {
        var hasher = SHA256()
        // where an archive member's bytes lie is not part of its identity: its content hash is
        let fields = item.fields.keys.sorted().filter { !locationColumns.contains($0) }.map { column in
            "\(column)=" + (inputHashes[column].map { "sha256:" + $0 } ?? item.fields[column]!)
        }.joined(separator: "\u{1F}")
        for part in [stage, String(version), parameters, item.id, fields] {
            hasher.update(Array(part.utf8))
            hasher.update([0])
        }
        // files that are not manifest cells (an atlas, a sidecar, the other hemisphere)
        let companions = inputHashes.keys.filter { item.fields[$0] == nil }.sorted()
        if !companions.isEmpty {
            hasher.update(Array(companions.map { "\($0)=sha256:\(inputHashes[$0]!)" }.joined(separator: "\u{1F}").utf8))
            hasher.update([0])
        }
        return hasher.finalizeHex()
    }
}

extension DoneRecord {
    /// Collection id → the content key of the input that produced it, for every item done: what a
    /// stage reading the collection keys its own per-item resume on.
    public var keysByOutput: [String: String] {
        var keys: [String: String] = [:]
        for item in items where item.status == "done" {
            for id in item.outputs ?? [item.id] { keys[id] = item.key }
        }
        return keys
    }
}
