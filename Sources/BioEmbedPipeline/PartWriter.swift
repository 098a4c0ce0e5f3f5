import BioEmbedCore
import BioEmbedHDF5
import Foundation

/// One part of a resumable stage run: a collection file plus its done record, committed together
/// (file first, record second, each atomically), so a part counts only once both exist.
final class PartWriter {
    let file: HDF5File
    let writer: CollectionWriter
    var items: [DoneRecord.Item] = []
    private let stageName: String
    private let path: String
    private let recordPath: String
    private let started = Date()
    private let maxItems: Int

    /// `compressed`: the fields keep their compression (a part that will be the whole output is
    /// copied into it as is); otherwise the merge compresses, and parts are written plain.
    init(stage: AnyStage, directory: String, number: Int, maxItems: Int, compressed: Bool = false) throws {
        stageName = stage.name
        let name = String(format: "part-%05d", number)
        path = directory + "/" + name + ".h5"
        recordPath = directory + "/" + name + ".json"
        self.maxItems = maxItems
        file = try HDF5File.create(path)
        // parts are read once by the merge, which compresses the output: compressing them too would
        // deflate every row twice and inflate it once more (unless the part is the whole output)
        let fields = compressed ? stage.fields : stage.fields.map { field in
            var plain = field
            plain.compressed = false
            return plain
        }
        writer = try CollectionWriter(in: file.root, name: stage.collection, fields: fields)
    }

    /// The most work (seconds) a part holds before it is committed: the most a killed run loses
    /// when items are slow, however few of them the part has.
    static let maxSeconds: TimeInterval = 20

    /// Whether this part should be committed now: enough inputs, or `maxSeconds` of work.
    var isDue: Bool { items.count >= maxItems || Date().timeIntervalSince(started) >= Self.maxSeconds }

    /// Commits the part; returns the path of its collection file.
    func commit() throws -> String {
        try writer.finish()
        try file.commit()
        try DoneRecord(stage: stageName, file: (path as NSString).lastPathComponent, items: items).save(recordPath)
        return path
    }
}
