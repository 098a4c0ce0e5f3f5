import BioEmbedCore
import BioEmbedHDF5
import Dispatch
import Foundation

/// Runs collection stages: the stage reads its input collection and adds its groups; the engine
/// writes provenance, the per-item resume keys of map stages (`CollectionReuse`) and commits.
extension StageExecutor {
    /// Runs a collection stage that adds its groups to `file`, a pipeline file already open for
    /// writing that earlier stages of the run are adding to (`SharedOutputs`): it reads and writes
    /// that one file, which is committed later, once for all of them. No copy is made.
    ///
    /// - Parameters:
    ///   - record: the done record of the item stage that made `file`, when that output is not
    ///     committed yet (its record is saved with the commit); nil: the record beside the file.
    ///   - previous: an earlier output of the stage (`--resume`): rows of items whose resume key is
    ///     unchanged are copied from it.
    public static func execute(
        _ stage: AnyCollectionStage, sharing file: HDF5File, record: DoneRecord? = nil, previous: String?, options: RunOptions
    ) throws -> StageSummary {
        let started = Date()
        let startedUTC = Timestamp.nowUTC()
        try requireInputCollection(of: stage, in: file)
        // The input as this stage sees it: what earlier stages left, flushed.
        try file.flush()
        let digest = (try? FileDigest.sha256(ofFile: file.workingPath)) ?? ""
        let reuse = try itemReuse(for: stage, input: file.path, record: record, reading: file, output: file.path, previous: previous)
        defer { reuse?.close() }
        let errors = ErrorLog(file: file)
        let context = CollectionStageContext(threads: options.threads ?? 1, progress: options.progress, reuse: reuse)
        let result = try stage.run(input: file, output: file, errors: errors, context: context)
        try file.updateSchemaVersion(to: stage.outputSchema)
        let seconds = Date().timeIntervalSince(started)
        try file.writeProvenance(Provenance(
            stage: stage.name, version: stage.version, parameters: stage.parametersJSON,
            inputs: [Provenance.Input(path: file.path, sha256: digest)] + result.inputs, startedUTC: startedUTC, seconds: seconds))
        if let reuse { try CollectionReuse.record(reuse.keys, stage: stage.name, in: file) }
        return StageSummary(
            stage: stage.name, output: file.path, done: result.done, failed: result.failed, seconds: seconds,
            failures: errors.firstFailures, cached: result.cached)
    }

    /// Runs a collection stage: reads `input`, writes into `output` (a copy of `input` when the
    /// paths are equal, so the stage adds its groups to it), records provenance, commits.
    ///
    /// - Parameter previous: an earlier output of the stage (`--resume`; often `output` itself):
    ///   rows of items whose resume key is unchanged are copied from it.
    public static func execute(_ stage: AnyCollectionStage, input: String, output: String, previous: String?, options: RunOptions) throws -> StageSummary {
        removeStaleTemporaries(of: output)
        let started = Date()
        let startedUTC = Timestamp.nowUTC()
        // every existing file this run reads checked by one child process instead of one each
        try HDF5Probe.check([input, output] + (previous.map { [$0] } ?? []))
        let source = try HDF5File.open(input)
        defer { source.close() }
        try requireInputCollection(of: stage, in: source)
        // The input's SHA-256 (for /provenance) is read on its own thread while the stage runs:
        // it overlaps the stage's single-threaded reading and writing instead of adding to them.
        let digest = BackgroundValue { (try? FileDigest.sha256(ofFile: input)) ?? "" }
        // Also on the error paths: a process that exits while the thread is inside libcrypto races
        // libcrypto's exit-time cleanup (SIGABRT).
        defer { _ = digest.wait() }
        let existed = FileManager.default.fileExists(atPath: output)
        let reuse = try itemReuse(for: stage, input: input, record: nil, reading: source, output: output, previous: previous)
        defer { reuse?.close() }
        let file = try HDF5File.update(output)
        if !existed { try file.writeRootAttributes(schema: stage.outputSchema, command: options.command) }
        let errors = ErrorLog(file: file)
        let context = CollectionStageContext(threads: options.threads ?? 1, progress: options.progress, reuse: reuse)
        let result = try stage.run(input: source, output: file, errors: errors, context: context)
        try file.updateSchemaVersion(to: stage.outputSchema)
        let seconds = Date().timeIntervalSince(started)
        var inputs = [Provenance.Input(path: input, sha256: digest.wait())]
        inputs += result.inputs
        try file.writeProvenance(Provenance(
            stage: stage.name, version: stage.version, parameters: stage.parametersJSON, inputs: inputs,
            startedUTC: startedUTC, seconds: seconds))
        if let reuse { try CollectionReuse.record(reuse.keys, stage: stage.name, in: file) }
        try file.commit()
        return StageSummary(
            stage: stage.name, output: output, done: result.done, failed: result.failed, seconds: seconds,
            failures: errors.firstFailures, cached: result.cached)
    }

    /// Throws unless `file` holds the collection `stage` reads, as a group of its own.
    private static func requireInputCollection(of stage: AnyCollectionStage, in file: HDF5File) throws(HDF5Error) {
        guard file.root.kind(of: stage.inputCollection) == .group else {
            if file.root.kind(of: stage.inputCollection) == .other {
                _ = try file.root.group(stage.inputCollection)  // names an external link as such
            }
            throw HDF5Error.missingObject(file: file.path, object: "/\(stage.inputCollection) (the collection stage '\(stage.name)' reads)")
        }
    }

    /// The per-item resume keys of a map stage over `input`'s collection, and what `previous` (an
    /// earlier output) holds under the same keys. Nil for reduce stages, and when the input has no
    /// done record (a collection not written by an item stage) or lacks the keys of a stage it
    /// reads (`reads`): every item is then computed.
    ///
    /// - Parameters:
    ///   - record: the input's done record when it is not on disk yet (nil: `<input>.done.json`).
    ///   - file: `input`, open (in a pipeline, the file earlier stages of this run wrote their keys into).
    private static func itemReuse(
        for stage: AnyCollectionStage, input: String, record: DoneRecord?, reading file: HDF5File, output: String, previous: String?
    ) throws -> CollectionReuse? {
        guard stage.kind == .map, let record = record ?? DoneRecord.load(input + ".done.json") else { return nil }
        var upstream: [[String: String]] = []
        for name in stage.reads {
            guard let group = try? file.root.group("provenance").group(name),
                  let ids = try? group.dataset(CollectionReuse.idsDataset).readStrings(),
                  let keys = try? group.dataset(CollectionReuse.keysDataset).readStrings(), ids.count == keys.count else { return nil }
            upstream.append(Dictionary(zip(ids, keys)) { first, _ in first })
        }
        let folder = (output as NSString).deletingLastPathComponent
        let hashes = FileHashCache(location: PathText.joined(folder.isEmpty ? "." : folder, ".bioembed/hashes.txt"), hasher: FileDigest.sha256(ofFile:))
        let files = try stage.resumeFiles.map { try hashes.sha256(of: $0) }
        hashes.save()
        var keys: [String: String] = [:]
        for (id, itemKey) in record.keysByOutput {
            // an item another stage has no key for (it failed there) is computed again
            let chained = upstream.map { $0[id] }
            guard !chained.contains(where: { $0 == nil }) else { continue }
            keys[id] = CollectionReuse.key(
                stage: stage.name, version: stage.version, parameters: stage.parametersJSON, files: files, id: id,
                itemKey: ([itemKey] + chained.map { $0! }).joined(separator: "/"))
        }
        return CollectionReuse(
            stage: stage.name, keys: keys, fileHashes: Dictionary(zip(stage.resumeFiles, files)) { first, _ in first }, previousPath: previous)
    }
}

/// A value computed on a thread of its own, waited for when needed.
private final class BackgroundValue<Value: Sendable>: @unchecked Sendable {
    // @unchecked: `value` is written once by the thread before `done` is signalled, and read only after waiting.
    private var value: Value?
    private let done = DispatchSemaphore(value: 0)
    init(_ compute: @escaping @Sendable () -> Value) {
        let thread = Thread { [self] in
            value = compute()
            done.signal()
        }
        thread.start()
    }
    func wait() -> Value {
        done.wait()
        done.signal()
        return value!
    }
}

