import BioEmbedCore
import BioEmbedHDF5
import Foundation

/// The state of a SLURM run, rebuilt from its folder: the shards' done records (the source of
/// truth) plus one batched `squeue` call for what is still queued or running.
public struct SlurmStatus: Sendable {
    public struct Stage: Sendable {
        public var stage: String
        public var done: [Int] = []
        /// Shards whose record lists failed items.
        public var failed: [Int] = []
        public var running: [Int] = []
        public var pending: [Int] = []
        /// Shards with no result and no job in the queue (the job failed or was cancelled).
        public var missing: [Int] = []
        public var itemsDone = 0
        public var itemsFailed = 0
        public var failures: [(shard: Int, id: String, message: String)] = []
    }

    public var submission: SlurmSubmission
    public var stages: [Stage]
    public var merge: String
    public var queueError: String?

    /// Shards to submit again: failed or missing in any stage, and not queued or running.
    public var shardsNeedingWork: [Int] {
        let busy = Set(stages.flatMap { $0.running + $0.pending })
        return Array(Set(stages.flatMap { $0.failed + $0.missing }).subtracting(busy)).sorted()
    }

    public static func read(runDirectory: String) throws -> SlurmStatus {
        let submission = try SlurmSubmission.load(runDirectory: runDirectory)
        let spec = try PipelineSpec.load(submission.pipeline)
        let runner = try LocalRunner(spec: spec, options: RunOptions(outputDirectory: submission.runDirectory))
        // One squeue for every job of the run.
        var queued: [Int: [String: String]] = [:]  // shard → stage → state
        var mergeState: String?
        var queueError: String?
        let ids = submission.jobs.map(\.jobID) + (submission.mergeJobID.map { [$0] } ?? [])
        if !ids.isEmpty {
            if let result = try? SlurmBackend.execute(["squeue", "-h", "-r", "-o", "%i|%T", "-j", ids.joined(separator: ",")]), result.status == 0 {
                for line in result.output.split(separator: "\n") {
                    let parts = line.split(separator: "|").map(String.init)
                    guard parts.count == 2 else { continue }
                    let idParts = parts[0].split(separator: "_").map(String.init)
                    if parts[0] == submission.mergeJobID { mergeState = parts[1]; continue }
                    guard idParts.count == 2, let task = Int(idParts[1]), let job = submission.jobs.first(where: { $0.jobID == idParts[0] }) else { continue }
                    queued[task + job.offset, default: [:]][job.stage] = parts[1]
                }
            } else {
                queueError = "squeue gave no answer; running and pending jobs are not shown"
            }
        }
        var stages: [Stage] = []
        for step in runner.plan where submission.stages.contains(step.stage) {
            var status = Stage(stage: step.stage)
            for shard in 0..<submission.shards {
                let file = ShardMerge.shardPath(submission.runDirectory, step.output, shard, submission.shards)
                var finished = false
                if step.itemStage, let record = DoneRecord.load(file + ".done.json"), FileManager.default.fileExists(atPath: file) {
                    finished = true
                    let failedItems = record.items.filter { $0.status == "failed" }
                    let failedOutputs = record.items.flatMap { $0.failures ?? [] }
                    status.itemsDone += record.items.reduce(0) { $0 + ($1.outputs?.count ?? 0) }
                    status.itemsFailed += failedItems.count + failedOutputs.count
                    for item in failedItems { status.failures.append((shard, item.id, item.message ?? "failed")) }
                    for failure in failedOutputs { status.failures.append((shard, failure.id, failure.message)) }
                    if failedItems.isEmpty && failedOutputs.isEmpty { status.done.append(shard) } else { status.failed.append(shard) }
                } else if !step.itemStage, let handle = try? HDF5File.open(file), handle.root.contains("provenance/\(step.stage)") {
                    finished = true
                    status.done.append(shard)
                    handle.close()
                }
                if finished { continue }
                switch queued[shard]?[step.stage] {
                case "RUNNING"?, "COMPLETING"?, "CONFIGURING"?: status.running.append(shard)
                case let state? where state.hasPrefix("PENDING") || state == "REQUEUED" || state == "SUSPENDED": status.pending.append(shard)
                default: status.missing.append(shard)
                }
            }
            stages.append(status)
        }
        let merged = Set(runner.plan.map(\.output)).map { PathText.joined(submission.runDirectory, $0) }
        let merge: String
        if let state = mergeState {
            merge = state.lowercased()
        } else if merged.allSatisfy({ FileManager.default.fileExists(atPath: $0) }) {
            merge = "done (" + merged.sorted().joined(separator: ", ") + ")"
        } else {
            merge = "not run (or failed: see logs/merge/)"
        }
        return SlurmStatus(submission: submission, stages: stages, merge: merge, queueError: queueError)
    }

    /// The report `bioembed status` prints.
    public var text: String {
        var lines = ["run \(submission.runDirectory): pipeline \(submission.pipeline), \(submission.shards) shards, submitted \(submission.submittedUTC)"]
        if let queueError { lines.append("warning: \(queueError)") }
        for stage in stages {
            lines.append("stage \(stage.stage): shards \(stage.done.count) done, \(stage.failed.count) with failed items, "
                         + "\(stage.running.count) running, \(stage.pending.count) pending, \(stage.missing.count) missing; "
                         + "items \(stage.itemsDone) done, \(stage.itemsFailed) failed")
            if !stage.failed.isEmpty { lines.append("  shards with failed items: \(stage.failed.map(String.init).joined(separator: " "))") }
            if !stage.missing.isEmpty {
                lines.append("  missing shards (job failed or cancelled; see \(submission.runDirectory)/logs/\(stage.stage)/): \(stage.missing.map(String.init).joined(separator: " "))")
            }
            for failure in stage.failures.prefix(10) { lines.append("  failed \(failure.id) (shard \(failure.shard)): \(failure.message)") }
            if stage.failures.count > 10 { lines.append("  ... \(stage.failures.count - 10) more (see /errors in the shard files)") }
        }
        lines.append("merge: \(merge)")
        let redo = shardsNeedingWork
        if !redo.isEmpty {
            lines.append("to rerun shards \(redo.map(String.init).joined(separator: " ")) after fixing their inputs: bioembed submit --resume \(ShellQuote.word(submission.runDirectory))")
        }
        return lines.joined(separator: "\n")
    }
}
