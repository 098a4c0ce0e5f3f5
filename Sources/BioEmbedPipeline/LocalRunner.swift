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
    /// Keep the work of earlier runs whose content key is unchanged (see `StageExecutor`).
    public var resume: Bool
    /// Inputs per committed part: the most work a killed run can lose.
    public var checkpointItems: Int
    /// Runs only this stage of the pipeline (its input must exist); nil runs all.
    public var only: String?

    public init(outputDirectory: String? = nil, jobs: Int = 1, shard: Shard? = nil, threads: Int? = nil,
                progress: ProgressReporter.Mode = .auto, command: String = "bioembed run", resume: Bool = false,
                checkpointItems: Int = 1024, only: String? = nil) {
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
}

/// What the last complete run left: the content hash of every file it wrote and the key
/// (version + parameters + files) of every collection stage, so `--resume` can skip collection
/// stages whose input and output are exactly as that run left them.
struct RunRecord: Codable {
    var files: [String: String] = [:]
    var stages: [String: String] = [:]
}

/// What a run did, and the exit code of docs/layout.md it maps to.
public struct RunSummary: Sendable {
    public var stages: [StageSummary]

    public init(stages: [StageSummary]) { self.stages = stages }

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
    private let stages: [(entry: PipelineSpec.StageEntry, step: PipelineStep, input: String?, output: String)]

    /// Validates the pipeline (stages, parameters) before anything runs.
    public init(spec: PipelineSpec, options: RunOptions) throws(PipelineError) {
        self.spec = spec
        self.options = options
        var built: [(PipelineSpec.StageEntry, PipelineStep, String?, String)] = []
        var previousOutput: String?
        for entry in spec.stages {
            let step = try StageRegistry.make(entry, file: spec.file, outputDirectory: options.outputDirectory ?? spec.outputDirectory)
            switch step {
            case .items:
                if entry.input != nil {
                    throw PipelineError.invalidParameter(
                        file: spec.file, line: entry.line, stage: entry.stage, problem: "'input' is for collection stages; this stage reads the manifest")
                }
                let output = entry.output.isEmpty ? "\(entry.stage).h5" : entry.output
                built.append((entry, step, nil, output))
                previousOutput = output
            case .collection:
                guard let input = entry.input ?? previousOutput else {
                    throw PipelineError.missingKey(file: spec.file, line: entry.line, key: "input")
                }
                let output = entry.output.isEmpty ? input : entry.output
                built.append((entry, step, input, output))
                previousOutput = output
            }
        }
        stages = built
        if let only = options.only, !built.contains(where: { $0.0.stage == only }) {
            throw PipelineError.unknownStage(file: spec.file, line: 1, stage: only, known: built.map(\.0.stage))
        }
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

    /// Runs every stage. Configuration problems (manifest, output folder) throw before any output.
    public func run() throws -> RunSummary {
        // Every manifest is read and checked (with the columns its stages need) before any work.
        var columns: [String: Set<String>] = [:]
        for stage in stages {
            if case let .items(s) = stage.step { columns[stage.entry.manifest ?? spec.manifest, default: []].formUnion(s.requiredColumns) }
        }
        var manifests: [String: [ManifestItem]] = [:]
        for (path, needed) in columns {
            manifests[path] = try Manifest.load(path, requiredColumns: needed.sorted()).items.filter { options.shard?.contains($0.index) ?? true }
        }
        // Item stages with --jobs > 1 run one item per core, so BLAS is single-threaded there;
        // collection stages (encoders, connectivity) get every core (or --threads).
        let collectionThreads = options.threads ?? BLASRuntime.threads
        let itemThreads = options.jobs > 1 ? 1 : collectionThreads
        let recordPath = PathText.joined(outputDirectory, ".bioembed/run-record.json")
        let previous = options.resume ? FileManager.default.contents(atPath: recordPath).flatMap { try? JSONDecoder().decode(RunRecord.self, from: $0) } : nil
        var record = RunRecord()
        var changed = Set<String>()  // files this run rewrote
        var summaries: [StageSummary] = []
        for stage in stages where options.only == nil || options.only == stage.entry.stage {
            switch stage.step {
            case let .items(itemStage):
                BLASRuntime.setThreads(itemThreads)
                let items = manifests[stage.entry.manifest ?? spec.manifest] ?? []
                let output = outputPath(for: stage.output)
                let summary = try StageExecutor.execute(itemStage, items: items, output: output, options: options)
                if summary.wroteOutput { changed.insert(output) }
                summaries.append(summary)
            case let .collection(collectionStage):
                BLASRuntime.setThreads(collectionThreads)
                let input = outputPath(for: stage.input!), output = outputPath(for: stage.output)
                let key = collectionStage.name + "/" + String(collectionStage.version) + "/" + collectionStage.parametersJSON + "/" + input + "/" + output
                record.stages[collectionStage.name] = key
                if let previous, previous.stages[collectionStage.name] == key, !changed.contains(input), !changed.contains(output),
                   [input, output].allSatisfy({ previous.files[$0] != nil && previous.files[$0] == (try? FileDigest.sha256(ofFile: $0)) }) {
                    var summary = StageSummary(stage: collectionStage.name, output: output, done: 0, failed: 0, seconds: 0, failures: [])
                    summary.cached = 1
                    summary.wroteOutput = false
                    summaries.append(summary)
                    continue
                }
                summaries.append(try StageExecutor.execute(collectionStage, input: input, output: output, options: options))
                changed.insert(output)
            }
        }
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
