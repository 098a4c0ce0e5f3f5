import BioEmbedCore

/// Per-item resume for a map stage over a collection (an encoder over `/proteins`, ...).
///
/// Every input item has a resume key (`CollectionReuse.key`): the item's own content key (the key
/// of the input file that produced it, from the item stage's done record), the stage's name,
/// version and parameters, the content of the files it reads besides the collection (weights,
/// model config) and the item's id. The keys are stored with the stage's output, in
/// `/provenance/<stage>/item_ids` and `item_keys`, so they always describe the rows beside them.
/// A resumed run copies the rows of an earlier output for every item whose key is unchanged and
/// computes only the others.
public final class CollectionReuse {
    /// The datasets of `/provenance/<stage>` that hold the keys.
    public static let idsDataset = "item_ids"
    public static let keysDataset = "item_keys"

    /// Input item id → resume key, for the items that have one.
    public let keys: [String: String]
    /// SHA-256 of the stage's `resumeFiles` (path → hex), already read for the keys: a stage that
    /// records the weights' checksum takes it from here instead of reading the file again.
    public let fileHashes: [String: String]
    /// A file that an earlier run of the stage wrote (open read-only), or nil.
    public let previous: HDF5File?
    /// Ids whose key in `previous` equals `keys`: their rows there are this run's answer.
    private let unchanged: Set<String>

    /// - Parameters:
    ///   - previousPath: an earlier output of the stage (nil, or a missing or unreadable file:
    ///     nothing is reused).
    public init(stage: String, keys: [String: String], fileHashes: [String: String] = [:], previousPath: String?) {
        self.keys = keys
        self.fileHashes = fileHashes
        var unchanged = Set<String>()
        var opened: HDF5File?
        if let previousPath, let file = try? HDF5File.open(previousPath) {
            if let group = try? file.root.group("provenance").group(stage),
               let ids = try? group.dataset(Self.idsDataset).readStrings(),
               let old = try? group.dataset(Self.keysDataset).readStrings(), ids.count == old.count {
                for (id, key) in zip(ids, old) where keys[id] == key { unchanged.insert(id) }
            }
            if unchanged.isEmpty { file.close() } else { opened = file }
        }
        previous = opened
        self.unchanged = unchanged
    }

    /// True when the earlier output's rows for `id` were made from the same content and settings.
    public func canReuse(_ id: String) -> Bool { unchanged.contains(id) }

    public var isEmpty: Bool { unchanged.isEmpty }

    public func close() { previous?.close() }

    /// The resume key of one item.
    public static func key(stage: String, version: Int, parameters: String, files: [String], id: String, itemKey: String) -> String {
        var hasher = SHA256()
        for field in [stage, String(version), parameters] + files + [id, itemKey] {
            hasher.update(Array(field.utf8))
            hasher.update([0x1F])
        }
        return hasher.finalizeHex()
    }

    /// Stores `keys` (sorted by id) in `/provenance/<stage>` of `file` (the group exists: written
    /// just before).
    public static func record(_ keys: [String: String], stage: String, in file: HDF5File) throws(HDF5Error) {
        guard !keys.isEmpty else { return }
        let group = try file.root.group("provenance").group(stage)
        let ids = keys.keys.sorted()
        _ = try group.writeStrings(idsDataset, ids, compressed: true)
        _ = try group.writeStrings(keysDataset, ids.map { keys[$0]! }, compressed: true)
    }
}
