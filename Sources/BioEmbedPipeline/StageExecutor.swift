import BioEmbedCore
import BioEmbedHDF5
import Dispatch
import Foundation

/// Runs one stage over a list of items into one collection file: the engine under `bioembed run`
/// and under every per-stage command.
///
/// Items are processed in batches with at most `jobs` in flight; results are appended in input
/// order by this thread alone (the only HDF5 writer), so memory stays bounded by the batch and the
/// output does not depend on `jobs`. The file is written under a temporary name and renamed when
/// complete.
public enum StageExecutor {
    private struct Outcome: Sendable {
        var result: Result<[StageOutput], any Error>
        var input: Provenance.Input?
    }

    /// Runs one stage over `items` into the collection file `output` (replaced when complete).
    ///
    /// Configuration problems throw before anything is written; item failures go to `/errors`.
    public static func execute(_ stage: AnyStage, items: [ManifestItem], output: String, options: RunOptions) throws -> StageSummary {
        removeStaleTemporaries(of: output)
        let started = Date()
        let startedUTC = Timestamp.nowUTC()
        let file = try HDF5File.create(output)
        try file.writeRootAttributes(schema: "bioembed/\(stage.collection)/\(BioEmbedVersion.layoutVersion)", command: options.command)
        let writer = try CollectionWriter(in: file.root, name: stage.collection, fields: stage.fields)
        for (key, value) in stage.collectionAttributes {
            // "graph/radius/cutoff": an attribute of a subgroup the fields created
            if let slash = key.lastIndex(of: "/"), writer.group.contains(String(key[..<slash])) {
                try writer.group.group(String(key[..<slash])).setAttribute(String(key[key.index(after: slash)...]), value)
            } else {
                try writer.group.setAttribute(key, value)
            }
        }
        let errors = ErrorLog(file: file)
        let progress = ProgressReporter(label: stage.name, total: items.count, mode: options.progress)
        var inputs: [Provenance.Input] = []
        let context = StageContext(threads: options.jobs > 1 ? 1 : (options.threads ?? 1))

        let batchSize = max(16, options.jobs * 4)
        var start = 0
        while start < items.count {
            let batch = Array(items[start..<min(start + batchSize, items.count)])
            start += batch.count
            let outcomes = process(batch, stage: stage, context: context, jobs: options.jobs)
            for (item, outcome) in zip(batch, outcomes) {
                if let input = outcome.input { inputs.append(input) }
                var failures: [(String, ErrorLog.Category, String)] = []
                switch outcome.result {
                case let .success(outputs):
                    for output in outputs {
                        switch output {
                        case let .record(record):
                            do { try writer.append(record) } catch {
                                failures.append((record.id, .crash, "stage '\(stage.name)' produced an invalid record: \(error)"))
                            }
                        case let .failure(id, message):
                            failures.append((id, .badInput, message))
                        }
                    }
                case let .failure(error):
                    failures.append((item.id, category(of: error), message(for: error, item: item)))
                }
                for (id, category, message) in failures {
                    try errors.append(id: id, stage: stage.name, category: category, message: message)
                    Diagnostics.debug("\(id): \(message)")
                }
                progress.advance(failed: !failures.isEmpty)
            }
        }
        try writer.finish()
        progress.finish()
        let seconds = Date().timeIntervalSince(started)
        try file.writeProvenance(Provenance(
            stage: stage.name, version: stage.version, parameters: stage.parametersJSON, inputs: inputs,
            startedUTC: startedUTC, seconds: seconds))
        try file.commit()
        return StageSummary(stage: stage.name, output: output, done: writer.count, failed: errors.count, seconds: seconds, failures: errors.firstFailures)
    }

    /// Runs a batch with at most `jobs` items at once; results come back in input order.
    private static func process(_ batch: [ManifestItem], stage: AnyStage, context: StageContext, jobs: Int) -> [Outcome] {
        let slots = OutcomeSlots<Outcome>(count: batch.count)
        let work: @Sendable (Int) -> Void = { index in
            let item = batch[index]
            let result = Result { try stage.outputs(item, context: context) }
            var input: Provenance.Input?
            if let path = item.path(), let sha = try? SHA256.hex(ofFile: path) { input = Provenance.Input(path: path, sha256: sha) }
            slots.set(index, Outcome(result: result, input: input))
        }
        if jobs == 1 {
            for index in batch.indices { work(index) }
        } else {
            let queue = DispatchQueue(label: "bioembed.items", attributes: .concurrent)
            let group = DispatchGroup()
            let limit = DispatchSemaphore(value: jobs)
            for index in batch.indices {
                limit.wait()
                queue.async(group: group) {
                    work(index)
                    limit.signal()
                }
            }
            group.wait()
        }
        return slots.values()
    }

    /// Errors from reading inputs are the input's fault; anything else is a crash of the stage.
    static func category(of error: any Error) -> ErrorLog.Category {
        error is any BioEmbedError ? .badInput : .crash
    }

    /// The error's message, prefixed with the item's file when the message does not name it.
    static func message(for error: any Error, item: ManifestItem) -> String {
        let text = (error as? any BioEmbedError)?.description ?? "\(error)"
        let file = item.path() ?? item.id
        return text.contains(file) ? text : "\(file): \(text)"
    }

    /// Runs a collection stage: reads `input`, writes into `output` (a copy of `input` when the
    /// paths are equal, so the stage adds its groups to it), records provenance, commits.
    public static func execute(_ stage: AnyCollectionStage, input: String, output: String, options: RunOptions) throws -> StageSummary {
        removeStaleTemporaries(of: output)
        let started = Date()
        let startedUTC = Timestamp.nowUTC()
        let source = try HDF5File.open(input)
        defer { source.close() }
        guard source.root.kind(of: stage.inputCollection) == .group else {
            throw HDF5Error.missingObject(file: input, object: "/\(stage.inputCollection) (the collection stage '\(stage.name)' reads)")
        }
        let existed = FileManager.default.fileExists(atPath: output)
        let file = try HDF5File.update(output)
        if !existed { try file.writeRootAttributes(schema: stage.outputSchema, command: options.command) }
        let errors = ErrorLog(file: file)
        let context = CollectionStageContext(threads: options.threads ?? 1, progress: options.progress)
        let result = try stage.run(input: source, output: file, errors: errors, context: context)
        let seconds = Date().timeIntervalSince(started)
        var inputs = [Provenance.Input(path: input, sha256: (try? SHA256.hex(ofFile: input)) ?? "")]
        inputs += result.inputs
        try file.writeProvenance(Provenance(
            stage: stage.name, version: stage.version, parameters: stage.parametersJSON, inputs: inputs,
            startedUTC: startedUTC, seconds: seconds))
        try file.commit()
        return StageSummary(stage: stage.name, output: output, done: result.done, failed: result.failed, seconds: seconds, failures: errors.firstFailures)
    }

    /// Removes `<output>.tmp-<pid>-<n>` files left by killed runs (not those of a live process here).
    private static func removeStaleTemporaries(of output: String) {
        let folder = (output as NSString).deletingLastPathComponent
        let prefix = (output as NSString).lastPathComponent + ".tmp-"
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder.isEmpty ? "." : folder) else { return }
        for name in names where name.hasPrefix(prefix) {
            if let pid = Int32(name.dropFirst(prefix.count).split(separator: "-").first ?? ""), pid != getpid(), kill(pid, 0) == 0 {
                continue  // another live process on this machine is writing it
            }
            try? FileManager.default.removeItem(atPath: (folder as NSString).appendingPathComponent(name))
        }
    }
}

/// Result slots filled concurrently, one writer per slot.
private final class OutcomeSlots<Value: Sendable>: @unchecked Sendable {
    // @unchecked: each index is written by exactly one task, and read only after all finished.
    private let lock = NSLock()
    private var storage: [Value?]
    init(count: Int) { storage = Array(repeating: nil, count: count) }
    func set(_ index: Int, _ value: Value) {
        lock.lock(); storage[index] = value; lock.unlock()
    }
    func values() -> [Value] { storage.map { $0! } }
}
