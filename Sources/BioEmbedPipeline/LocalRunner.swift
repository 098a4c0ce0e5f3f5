import BioEmbedCore
import BioEmbedHDF5
import BioEmbedNeuro
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
    /// Keep the work of earlier runs whose content key is unchanged (see `StageExecutor`).
    public var resume: Bool
    /// Inputs per committed part: the most work a killed run can lose.
    public var checkpointItems: Int
    /// Runs only this stage of the pipeline (its input must exist); nil runs all.
    public var only: String?
    /// Runs a reduce stage once over the results of this many shards (the SLURM job of a reduce
    /// stage): its input is gathered from the shard files, its output written beside them.
    public var gather: Int?

    public init(outputDirectory: String? = nil, jobs: Int = 1, shard: Shard? = nil, threads: Int? = nil,
                progress: ProgressReporter.Mode = .auto, command: String = "bioembed run", resume: Bool = false,
                checkpointItems: Int = 1024, only: String? = nil, gather: Int? = nil) {
        self.gather = gather
        self.resume = resume
        self.only = only
        self.checkpointItems = max(1, checkpointItems)
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
    /// Inputs whose results came from an earlier run (`--resume`).
    public var cached: Int = 0
    /// False when the output was left exactly as an earlier run wrote it.
    public var wroteOutput = true
    /// Why the stage did not run at all: it failed as a whole (`.failed`), or a stage it needs
    /// did not complete or runs elsewhere (`.skipped`). Nil when it ran.
    public var notRun: NotRun? = nil

    public enum NotRun: Sendable {
        case failed(message: String)
        case skipped(reason: String)
    }

    public init(stage: String, output: String, done: Int, failed: Int, seconds: Double, failures: [(id: String, message: String)],
                cached: Int = 0, wroteOutput: Bool = true) {
        self.stage = stage
        self.output = output
        self.done = done
        self.failed = failed
        self.seconds = seconds
        self.failures = failures
        self.cached = cached
        self.wroteOutput = wroteOutput
    }

    static func notRun(_ stage: String, output: String, _ why: NotRun) -> StageSummary {
        var summary = StageSummary(stage: stage, output: output, done: 0, failed: 0, seconds: 0, failures: [], wroteOutput: false)
        summary.notRun = why
        return summary
    }
}

/// What the last complete run left: the content hash of every file it wrote and the key
/// (version + parameters + files) of every collection stage, so `--resume` can skip collection
/// stages whose input and output are exactly as that run left them.
struct RunRecord: Codable {
    var files: [String: String] = [:]
    var stages: [String: String] = [:]
    /// Items each collection stage left in its output (done + cached): what a skipped stage reports as cached.
    var items: [String: Int]? = [:]
}

/// What a run did, and the exit code of docs/layout.md it maps to.
public struct RunSummary: Sendable {
    public var stages: [StageSummary]

    public init(stages: [StageSummary]) { self.stages = stages }

    /// 0: every item done; 2: some failed (items, or whole stages of a branch); 3: nothing could be done.
    /// A stage skipped because it runs elsewhere (a reduce stage in a sharded run) is no failure.
    public var exitCode: Int32 {
        let done = stages.reduce(0) { $0 + $1.done + $1.cached }
        let failed = stages.reduce(0) { total, stage in
            if case .failed? = stage.notRun { return total + 1 }
            return total + stage.failed
        }
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
    private let stages: [(entry: PipelineSpec.StageEntry, step: PipelineStep, input: String?, output: String)]
    /// Which stage needs which (see `PipelineGraph`), in the order of `stages`.
    public let graph: PipelineGraph

    /// Validates the pipeline (stages, parameters) before anything runs.
    public init(spec: PipelineSpec, options: RunOptions) throws(PipelineError) {
        self.spec = spec
        self.options = options
        var built: [(PipelineSpec.StageEntry, PipelineStep, String?, String)] = []
        var nodes: [PipelineGraph.Node] = []
        var previousOutput: String?
        for var entry in spec.stages {
            let step = try StageRegistry.make(entry, file: spec.file, outputDirectory: options.outputDirectory ?? spec.outputDirectory)
            if let bids = entry.bids {
                entry.manifest = try Self.writeStageManifest(name: "bids", stage: entry, spec: spec, outputDirectory: options.outputDirectory ?? spec.outputDirectory) {
                    try bids.manifestText()
                }
            }
            if let list = entry.inputList {
                entry.manifest = try Self.writeStageManifest(name: "input-list", stage: entry, spec: spec, outputDirectory: options.outputDirectory ?? spec.outputDirectory) {
                    InputDiscovery.manifestText(try InputDiscovery.items(listFile: list))
                }
            }
            if case .items = step, (entry.manifest ?? spec.manifest).isEmpty {
                throw PipelineError.missingKey(file: spec.file, line: entry.line, key: "manifest (of the pipeline or of stage '\(entry.stage)'), or bids")
            }
            let references = StageRegistry.outputDirectoryReferences(entry)
            switch step {
            case .items:
                if entry.input != nil {
                    throw PipelineError.invalidParameter(
                        file: spec.file, line: entry.line, stage: entry.stage, problem: "'input' is for collection stages; this stage reads the manifest")
                }
                let output = entry.output.isEmpty ? "\(entry.stage).h5" : entry.output
                built.append((entry, step, nil, output))
                nodes.append(.init(stage: entry.stage, kind: .mapManifest, input: nil, output: output, references: references))
                previousOutput = output
            case let .collection(stage):
                guard let input = entry.input ?? previousOutput else {
                    throw PipelineError.missingKey(file: spec.file, line: entry.line, key: "input")
                }
                let output = entry.output.isEmpty ? input : entry.output
                built.append((entry, step, input, output))
                nodes.append(.init(
                    stage: entry.stage, kind: .init(stage.kind), input: input, output: output, inputCollection: stage.inputCollection,
                    outputCollection: stage.outputSchema.split(separator: "/").dropFirst().first.map(String.init), references: references))
                previousOutput = output
            }
        }
        for (entry, _, _, output) in built {
            if let problem = Self.outsideRunFolder(output) {
                throw PipelineError.invalidParameter(
                    file: spec.file, line: entry.line, stage: entry.stage,
                    problem: "output '\(output)' \(problem); every output is written inside output_dir (choose the folder with output_dir or --output-dir)")
            }
        }
        stages = built
        graph = PipelineGraph(nodes)
        if let only = options.only, !built.contains(where: { $0.0.stage == only }) {
            throw PipelineError.unknownStage(file: spec.file, line: 1, stage: only, known: built.map(\.0.stage))
        }
        if options.shard != nil || options.gather != nil, let problem = graph.shardingProblem() {
            throw PipelineError.invalidParameter(file: spec.file, line: 1, stage: "", problem: problem)
        }
        if let gather = options.gather {
            guard let only = options.only, let index = built.firstIndex(where: { $0.0.stage == only }), graph.nodes[index].kind == .reduce else {
                throw PipelineError.invalidParameter(
                    file: spec.file, line: 1, stage: options.only ?? "",
                    problem: "--gather \(gather) runs one reduce stage over the shards: name it with --only (reduce stages: "
                        + graph.nodes.filter { $0.kind == .reduce }.map(\.stage).joined(separator: ", ") + ")")
            }
        }
    }

    /// The inputs a stage names without a manifest (`bids:`, `input_list:`) as a manifest in the run
    /// folder (`.bioembed/<name>-<stage>.tsv`, written atomically; the same list for every shard and
    /// the merge).
    static func writeStageManifest(
        name: String, stage: PipelineSpec.StageEntry, spec: PipelineSpec, outputDirectory: String, text make: () throws -> String
    ) throws(PipelineError) -> String {
        let text: String
        do { text = try make() } catch {
            throw PipelineError.invalidParameter(file: spec.file, line: stage.line, stage: stage.stage, problem: "\(name): \(error)")
        }
        let folder = PathText.joined(outputDirectory, ".bioembed")
        try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let path = PathText.joined(folder, "\(name)-\(stage.stage).tsv")
        guard AtomicFile.write(Data(text.utf8), to: path) else {
            throw PipelineError.unreadable(file: path, reason: "cannot write the manifest of '\(name)'")
        }
        return path
    }

    /// Why an output file name would leave the run folder (an absolute path, `..`), or nil.
    static func outsideRunFolder(_ name: String) -> String? {
        if name.hasPrefix("/") { return "is an absolute path" }
        var depth = 0
        for part in name.split(separator: "/") {
            if part == ".." { depth -= 1 } else if part != "." { depth += 1 }
            if depth < 0 { return "leaves the run folder through '..'" }
        }
        return nil
    }

    /// Where a reduce stage writes in a sharded run: once, beside the shard files; the merge adds
    /// its groups to the merged file.
    public static func reduceFileName(stage: String, output: String) -> String {
        let stem = (output as NSString).deletingPathExtension
        let ext = (output as NSString).pathExtension
        return "\(stem).reduce-\(stage)" + (ext.isEmpty ? "" : ".\(ext)")
    }

    /// The stages in order: name, whether it reads the manifest (item stage), input and output file names.
    public var plan: [(stage: String, itemStage: Bool, input: String?, output: String, manifest: String?)] {
        stages.map { stage in
            if case .items = stage.step { return (stage.entry.stage, true, nil, stage.output, stage.entry.manifest ?? spec.manifest) }
            return (stage.entry.stage, false, stage.input, stage.output, nil)
        }
    }

    public var outputDirectory: String { options.outputDirectory ?? spec.outputDirectory }

    /// The path of a file named in the pipeline (relative names go into the output folder, with
    /// the shard suffix when sharded).
    public func outputPath(for fileName: String) -> String {
        if fileName.hasPrefix("/") { return fileName }
        var name = fileName
        if let shard = options.shard {
            let stem = (name as NSString).deletingPathExtension
            let ext = (name as NSString).pathExtension
            name = "\(stem).shard-\(shard.index)-of-\(shard.count)" + (ext.isEmpty ? "" : ".\(ext)")
        }
        return (outputDirectory as NSString).appendingPathComponent(name)
    }

    /// Runs one stage (`run` decides whether it may).
    private func execute(
        _ stage: (entry: PipelineSpec.StageEntry, step: PipelineStep, input: String?, output: String), index: Int,
        collectionThreads: Int, manifests: [String: [ManifestItem]], previous: RunRecord?, record: inout RunRecord, changed: inout Set<String>,
        shared: SharedOutputs, earlier: EarlierOutputs
    ) throws -> StageSummary {
        switch stage.step {
        case let .items(itemStage):
            let items = manifests[stage.entry.manifest ?? spec.manifest] ?? []
            let output = outputPath(for: stage.output)
            try shared.commit(output)
            guard addsGroups(to: output, after: index) else {
                let summary = try StageExecutor.execute(itemStage, items: items, output: output, options: options)
                if summary.wroteOutput { changed.insert(output) }
                return summary
            }
            // Later stages add to this file: it stays open for them (no copy) and is committed with them.
            let (summary, pending) = try StageExecutor.execute(itemStage, items: items, output: output, options: options, keepingOpen: true)
            if let pending {
                var again = options
                again.resume = true  // from the parts kept until the commit
                try shared.adopt(pending, at: output) {
                    try StageExecutor.execute(itemStage, items: items, output: output, options: again, keepingOpen: true).1
                }
            }
            if summary.wroteOutput { changed.insert(output) }
            return summary
        case let .collection(collectionStage):
            BLASRuntime.setThreads(collectionThreads)
            if let shards = options.gather {
                return try gatherAndReduce(collectionStage, input: stage.input!, output: stage.output, shards: shards)
            }
            let input = outputPath(for: stage.input!), output = outputPath(for: stage.output)
            let key = collectionStage.name + "/" + String(collectionStage.version) + "/" + collectionStage.parametersJSON + "/" + input + "/" + output
            record.stages[collectionStage.name] = key
            if let previous, previous.stages[collectionStage.name] == key, !changed.contains(input), !changed.contains(output),
               [input, output].allSatisfy({ previous.files[$0] != nil && previous.files[$0] == (try? FileDigest.sha256(ofFile: $0)) }) {
                let items = previous.items?[collectionStage.name] ?? 0
                record.items?[collectionStage.name] = items
                return StageSummary(stage: collectionStage.name, output: output, done: 0, failed: 0, seconds: 0, failures: [], cached: items, wroteOutput: false)
            }
            let summary: StageSummary
            let previousOutput = earlier.path(of: output)
            if input == output {
                // Adds groups to its input: into the run's one open copy of that file.
                summary = try shared.run(into: output, index: index) { file, record in
                    try StageExecutor.execute(collectionStage, sharing: file, record: record, previous: previousOutput, options: options)
                } replay: { replayed, file, record in
                    guard case let .collection(again) = stages[replayed].step else { return }
                    _ = try StageExecutor.execute(again, sharing: file, record: record, previous: earlier.path(of: output), options: options)
                }
            } else {
                try shared.commit(input)
                try shared.commit(output)
                summary = try StageExecutor.execute(collectionStage, input: input, output: output, previous: previousOutput, options: options)
            }
            record.items?[collectionStage.name] = summary.done + summary.cached
            changed.insert(output)
            return summary
        }
    }

    /// Whether a collection stage after stage `index` adds groups to `output` in this run.
    private func addsGroups(to output: String, after index: Int) -> Bool {
        guard options.only == nil, options.gather == nil else { return false }
        return stages[(index + 1)...].contains { later in
            guard case .collection = later.step, let input = later.input, input == later.output else { return false }
            return outputPath(for: later.output) == output
        }
    }

    /// The SLURM job of a reduce stage: its input merged from the shard files into a scratch file
    /// of the run folder, the stage run once over it, its groups written to `reduceFileName` (a new
    /// file) for the merge to add.
    private func gatherAndReduce(_ stage: AnyCollectionStage, input: String, output: String, shards: Int) throws -> StageSummary {
        let scratch = PathText.joined(outputDirectory, ".bioembed/gather")
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        let gathered = PathText.joined(scratch, input)
        let manifest = try Manifest.load(ShardMerge.manifest(of: input, runner: self), requiredColumns: [])
        _ = try ShardMerge.merge(name: input, folder: outputDirectory, shards: shards, manifest: manifest, into: gathered)
        defer { for path in [gathered, gathered + ".done.json"] { try? FileManager.default.removeItem(atPath: path) } }
        let reduced = PathText.joined(outputDirectory, Self.reduceFileName(stage: stage.name, output: output))
        try? FileManager.default.removeItem(atPath: reduced)
        var options = self.options
        options.shard = nil
        var summary = try StageExecutor.execute(stage, input: gathered, output: reduced, previous: nil, options: options)
        summary.output = reduced
        return summary
    }

    /// What a run may do side by side with others in its folder: `run`, or one stage (`--only`),
    /// per shard (`--shard`) or for the reduce over all shards (`--gather`).
    var lockScope: String {
        var scope = options.only ?? "run"
        if let shard = options.shard { scope += ".shard-\(shard.index)-of-\(shard.count)" }
        if options.gather != nil { scope += ".gather" }
        return scope
    }

    /// Runs every stage. Configuration problems (manifest, output folder) throw before any output.
    public func run() throws -> RunSummary {
        // One run per folder, shard and stage (`--only`, as SLURM jobs run): taken before anything is touched.
        let lock = try OutputLock(folder: outputDirectory, scope: lockScope)
        defer { withExtendedLifetime(lock) {} }
        // Every manifest is read and checked (with the columns its stages need) before any work.
        var columns: [String: Set<String>] = [:]
        for stage in stages {
            if case let .items(s) = stage.step { columns[stage.entry.manifest ?? spec.manifest, default: []].formUnion(s.requiredColumns) }
        }
        var manifests: [String: [ManifestItem]] = [:]
        for (path, needed) in columns {
            manifests[path] = try Manifest.load(path, requiredColumns: needed.sorted()).items.filter { options.shard?.contains($0.index) ?? true }
        }
        // Collection stages (encoders, connectivity) get every core (or --threads); item stages run
        // BLAS on one thread per item (StageExecutor) and use the cores through --jobs.
        let collectionThreads = options.threads ?? BLASRuntime.threads
        let recordPath = PathText.joined(outputDirectory, ".bioembed/run-record.json")
        let previous = options.resume ? FileManager.default.contents(atPath: recordPath).flatMap { try? JSONDecoder().decode(RunRecord.self, from: $0) } : nil
        var record = RunRecord()
        var changed = Set<String>()  // files this run rewrote
        var summaries: [StageSummary] = []
        var incomplete: [Int: String] = [:]  // stage index → why it did not complete
        let shared = SharedOutputs()
        // With --resume, the outputs as the earlier run left them, for map stages to reuse rows from
        // (item stages rewrite files that collection stages add to).
        let earlier = EarlierOutputs(
            folder: PathText.joined(outputDirectory, ".bioembed/earlier"),
            files: options.resume && options.gather == nil ? Set(stages.compactMap { stage -> String? in
                guard case .collection = stage.step else { return nil }
                return outputPath(for: stage.output)
            }).sorted() : [])
        for (index, stage) in stages.enumerated() where options.only == nil || options.only == stage.entry.stage {
            let name = stage.entry.stage
            if let blocker = graph.dependencies[index].first(where: { incomplete[$0] != nil }) {
                incomplete[index] = "needs \(stages[blocker].entry.stage)"
                summaries.append(.notRun(name, output: outputPath(for: stage.output), .skipped(reason: "needs '\(stages[blocker].entry.stage)', which \(incomplete[blocker]!)")))
                continue
            }
            if graph.nodes[index].kind == .reduce, let shard = options.shard {
                incomplete[index] = "runs once over all shards"
                summaries.append(.notRun(name, output: outputPath(for: stage.output), .skipped(
                    reason: "a reduce stage runs once over all shards, not per shard: after every shard, "
                        + "bioembed run \(ShellQuote.word(spec.file)) --only \(name) --gather \(shard.count)")))
                continue
            }
            do {
                summaries.append(try execute(stage, index: index, collectionThreads: collectionThreads,
                                             manifests: manifests, previous: previous, record: &record, changed: &changed, shared: shared, earlier: earlier))
            } catch let error as HDF5Error where error.isStorageFull {
                throw error  // a full disk stops every branch: the run reports it and exits 3
            } catch {
                // This stage's branch stops here; the others go on.
                incomplete[index] = "failed"
                summaries.append(.notRun(name, output: outputPath(for: stage.output), .failed(message: "\(error)")))
            }
        }
        try shared.commitAll()
        earlier.remove()
        if options.only == nil {
            for stage in stages {
                let path = outputPath(for: stage.output)
                record.files[path] = try? FileDigest.sha256(ofFile: path)
            }
            if let data = try? JSONEncoder().encode(record) {
                try? FileManager.default.createDirectory(atPath: PathText.joined(outputDirectory, ".bioembed"), withIntermediateDirectories: true)
                AtomicFile.write(data, to: recordPath)
            }
        }
        return RunSummary(stages: summaries)
    }
}
