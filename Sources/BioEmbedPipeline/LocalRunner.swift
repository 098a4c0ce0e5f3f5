import BioEmbedCore
import BioEmbedHDF5
import BioEmbedLinalg
import Dispatch
import Foundation

/// How a pipeline run is carried out.
public struct RunOptions: Sendable {
    /// Replaces the pipeline file's `output_dir`.
    public var outputDirectory: String?
    /// Items processed at once (BLAS then runs single-threaded to avoid oversubscription).
    public var jobs: Int
    /// Runs rows `index, index + count, ...` only, into `<output>.shard-<index>-of-<count>.h5`.
    public var shard: Shard?
    /// Threads for BLAS when `jobs == 1` (nil: OpenBLAS's default, the CPUs of the affinity mask).
    public var threads: Int?
    public var progress: ProgressReporter.Mode
    /// The command line, recorded in the root attribute `command`.
    public var command: String

    public init(outputDirectory: String? = nil, jobs: Int = 1, shard: Shard? = nil, threads: Int? = nil,
                progress: ProgressReporter.Mode = .auto, command: String = "bioembed run") {
        self.outputDirectory = outputDirectory
        self.jobs = max(1, jobs)
        self.shard = shard
        self.threads = threads
        self.progress = progress
        self.command = command
    }
}

/// `I/N`: this run does rows `I, I+N, I+2N, ...` of the manifest.
public struct Shard: Sendable, Equatable, CustomStringConvertible {
    public let index: Int
    public let count: Int

    public init(index: Int, count: Int) {
        self.index = index
        self.count = count
    }

    public init(parsing text: String) throws(PipelineError) {
        let parts = text.split(separator: "/")
        guard parts.count == 2, let i = Int(parts[0]), let n = Int(parts[1]), n >= 1, i >= 0, i < n else {
            throw PipelineError.invalidShard(given: text)
        }
        self.init(index: i, count: n)
    }

    public func contains(_ row: Int) -> Bool { row % count == index }
    public var description: String { "\(index)/\(count)" }
}

/// What one stage did.
public struct StageSummary: Sendable {
    public var stage: String
    public var output: String
    public var done: Int
    public var failed: Int
    public var seconds: Double
    /// The first few failures: id and message.
    public var failures: [(id: String, message: String)]
}

/// What a run did, and the exit code of contract.md it maps to.
public struct RunSummary: Sendable {
    public var stages: [StageSummary]

    /// 0: every item done; 2: some failed; 3: nothing could be done.
    public var exitCode: Int32 {
        let done = stages.reduce(0) { $0 + $1.done }
        let failed = stages.reduce(0) { $0 + $1.failed }
        if failed == 0 { return 0 }
        return done == 0 ? 3 : 2
    }
}

/// Runs a pipeline on this machine: stage by stage, items streamed from the manifest, a bounded
/// number of items in flight, one writer per output file.
///
/// Each stage's output is written under a temporary name and renamed when complete, so an
/// interrupted run never leaves a partial file under a final name. A failing item is recorded in
/// `/errors` (with a message naming the file and the problem) and the run goes on.
public final class LocalRunner {
    public let spec: PipelineSpec
    public let options: RunOptions
    private let stages: [(entry: PipelineSpec.StageEntry, stage: AnyStage)]

    /// Validates the pipeline (stages, parameters) before anything runs.
    public init(spec: PipelineSpec, options: RunOptions) throws(PipelineError) {
        self.spec = spec
        self.options = options
        var built: [(PipelineSpec.StageEntry, AnyStage)] = []
        for entry in spec.stages { built.append((entry, try StageRegistry.make(entry, file: spec.file))) }
        stages = built
    }

    public var outputDirectory: String { options.outputDirectory ?? spec.outputDirectory }

    /// The file a stage writes.
    public func outputPath(for entry: PipelineSpec.StageEntry) -> String {
        var name = entry.output
        if let shard = options.shard {
            let stem = (name as NSString).deletingPathExtension
            let ext = (name as NSString).pathExtension
            name = "\(stem).shard-\(shard.index)-of-\(shard.count)" + (ext.isEmpty ? "" : ".\(ext)")
        }
        return (outputDirectory as NSString).appendingPathComponent(name)
    }

    /// Runs every stage. Configuration problems (manifest, output folder) throw before any output.
    public func run() throws -> RunSummary {
        let columns = Array(Set(stages.flatMap(\.stage.requiredColumns))).sorted()
        let manifest = try Manifest.load(spec.manifest, requiredColumns: columns)
        if options.jobs > 1 { BLASRuntime.setThreads(1) } else if let threads = options.threads { BLASRuntime.setThreads(threads) }
        let items = manifest.items.filter { options.shard?.contains($0.index) ?? true }
        var summaries: [StageSummary] = []
        for (entry, stage) in stages {
            summaries.append(try run(stage, entry: entry, items: items))
        }
        return RunSummary(stages: summaries)
    }

    private struct Outcome: Sendable {
        var result: Result<ItemRecord, any Error>
        var input: Provenance.Input?
    }

    private func run(_ stage: AnyStage, entry: PipelineSpec.StageEntry, items: [ManifestItem]) throws -> StageSummary {
        let output = outputPath(for: entry)
        removeStaleTemporaries(of: output)
        let started = Date()
        let startedUTC = Timestamp.nowUTC()
        let file = try HDF5File.create(output)
        try file.writeRootAttributes(schema: "bioembed/\(stage.collection)/\(BioEmbedVersion.layoutVersion)", command: options.command)
        let writer = try CollectionWriter(in: file.root, name: stage.collection, fields: stage.fields)
        for (key, value) in stage.collectionAttributes { try writer.group.setAttribute(key, value) }
        let errors = ErrorLog(file: file)
        let progress = ProgressReporter(label: stage.name, total: items.count, mode: options.progress)
        var inputs: [Provenance.Input] = []
        var failures: [(String, String)] = []
        let context = StageContext(threads: options.jobs > 1 ? 1 : (options.threads ?? 1))

        let batchSize = max(16, options.jobs * 4)
        var start = 0
        while start < items.count {
            let batch = Array(items[start..<min(start + batchSize, items.count)])
            start += batch.count
            let outcomes = process(batch, stage: stage, context: context)
            for (item, outcome) in zip(batch, outcomes) {
                if let input = outcome.input { inputs.append(input) }
                var failure: (ErrorLog.Category, String)?
                switch outcome.result {
                case let .success(record):
                    do { try writer.append(record) } catch {
                        failure = (.crash, "stage '\(stage.name)' produced an invalid record: \(error)")
                    }
                case let .failure(error):
                    failure = (Self.category(of: error), Self.message(for: error, item: item))
                }
                if let (category, message) = failure {
                    try errors.append(id: item.id, stage: stage.name, category: category, message: message)
                    if failures.count < 20 { failures.append((item.id, message)) }
                    Diagnostics.debug("\(item.id): \(message)")
                }
                progress.advance(failed: failure != nil)
            }
        }
        try writer.finish()
        progress.finish()
        let seconds = Date().timeIntervalSince(started)
        try file.writeProvenance(Provenance(
            stage: stage.name, version: stage.version, parameters: stage.parametersJSON, inputs: inputs,
            startedUTC: startedUTC, seconds: seconds))
        try file.commit()
        return StageSummary(stage: stage.name, output: output, done: writer.count, failed: errors.count, seconds: seconds, failures: failures)
    }

    /// Runs a batch with at most `jobs` items at once; results come back in input order.
    private func process(_ batch: [ManifestItem], stage: AnyStage, context: StageContext) -> [Outcome] {
        let slots = OutcomeSlots<Outcome>(count: batch.count)
        let work: @Sendable (Int) -> Void = { index in
            let item = batch[index]
            let result = Result { try stage.process(item, context: context) }
            var input: Provenance.Input?
            if let path = item.path(), let sha = try? SHA256.hex(ofFile: path) { input = Provenance.Input(path: path, sha256: sha) }
            slots.set(index, Outcome(result: result, input: input))
        }
        if options.jobs == 1 {
            for index in batch.indices { work(index) }
        } else {
            let queue = DispatchQueue(label: "bioembed.items", attributes: .concurrent)
            let group = DispatchGroup()
            let limit = DispatchSemaphore(value: options.jobs)
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

    private func removeStaleTemporaries(of output: String) {
        let folder = (output as NSString).deletingLastPathComponent
        let prefix = (output as NSString).lastPathComponent + ".tmp-"
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder.isEmpty ? "." : folder) else { return }
        for name in names where name.hasPrefix(prefix) {
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
