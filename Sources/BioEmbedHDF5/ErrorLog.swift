import BioEmbedCore

/// The `/errors` group: one row per failed item, with `ids`, `stage`, `category` and `message`
/// (variable-length UTF-8). Created on first use, so files without failures have no `/errors`;
/// when the group exists already (a file being updated), rows are appended to it.
public final class ErrorLog {
    /// Why an item failed (pipelines retry by category).
    public enum Category: String, Sendable, Codable, CaseIterable {
        case badInput = "bad_input"
        case outOfMemory = "out_of_memory"
        case crash
    }

    private let file: HDF5File
    private var datasets: [String: HDF5Dataset] = [:]
    public private(set) var count = 0
    /// The first 20 failures (id, message), for summaries.
    public private(set) var firstFailures: [(id: String, message: String)] = []

    public init(file: HDF5File) { self.file = file }

    public func append(id: String, stage: String, category: Category, message: String) throws(HDF5Error) {
        if datasets.isEmpty {
            let group = try file.root.openOrCreateGroup("errors")
            for name in ["ids", "stage", "category", "message"] {
                datasets[name] = group.contains(name)
                    ? try group.dataset(name)
                    : try group.createDataset(name, type: .string, shape: [0], chunks: [1024], appendable: true)
            }
        }
        try datasets["ids"]!.appendStrings([id])
        try datasets["stage"]!.appendStrings([stage])
        try datasets["category"]!.appendStrings([category.rawValue])
        try datasets["message"]!.appendStrings([message])
        count += 1
        if firstFailures.count < 20 { firstFailures.append((id, message)) }
    }
}

extension HDF5File {
    /// Writes the root attributes of docs/layout.md: `bioembed_version`, `schema`, `created_utc`, `command`.
    public func writeRootAttributes(schema: String, command: String) throws(HDF5Error) {
        let root = self.root
        try root.setAttribute("bioembed_version", BioEmbedVersion.string)
        try root.setAttribute("schema", schema)
        try root.setAttribute("created_utc", Timestamp.nowUTC())
        try root.setAttribute("command", command)
    }

    /// Sets the root `schema` to `schema` when the file's schema names the same collection at
    /// another layout version: a stage that rewrote its groups in the current layout (e.g. the fMRI
    /// stages on a `bioembed/fmri/1` file) says so. A file of another collection is left as it is
    /// (an encoder adds `/embeddings/<model>` to an fMRI file, whose schema stays fMRI's).
    public func updateSchemaVersion(to schema: String) throws(HDF5Error) {
        let root = self.root
        guard let current = try? root.stringAttribute("schema"), current != schema,
              current.split(separator: "/").dropLast() == schema.split(separator: "/").dropLast() else { return }
        try root.setAttribute("schema", schema)
    }

    /// Writes `/provenance/<stage>` (replacing an earlier record of the same stage).
    public func writeProvenance(_ provenance: Provenance) throws(HDF5Error) {
        let parent = try root.openOrCreateGroup("provenance")
        if parent.contains(provenance.stage) { try parent.remove(provenance.stage) }
        let group = try parent.createGroup(provenance.stage, denseAttributes: true)
        try group.setAttribute("parameters", provenance.parameters)
        try group.setJSONAttribute("inputs", provenance.inputs)
        try group.setAttribute("version", .int(Int64(provenance.version)))
        try group.setAttribute("started_utc", provenance.startedUTC)
        try group.setAttribute("seconds", .double(provenance.seconds))
    }
}
