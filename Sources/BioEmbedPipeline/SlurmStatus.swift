import BioEmbedCore
import BioEmbedHDF5
import Foundation

/// The state of a SLURM run, rebuilt from its folder: the shards' done records (the source of
/// truth) plus one batched `squeue` call for what is still queued or running.
public struct SlurmStatus: Sendable {
    public struct Stage: Sendable {
        public var stage: String
        /// A reduce stage: one job over all shards, counted as shard 0 below.
        public var reduce = false
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

    /// Shards to submit again: failed or missing in any per-shard stage, and not queued or running.
    public var shardsNeedingWork: [Int] {
        let perShard = stages.filter { !$0.reduce }
        let busy = Set(perShard.flatMap { $0.running + $0.pending })
        return Array(Set(perShard.flatMap { $0.failed + $0.missing }).subtracting(busy)).sorted()
    }

    /// Reduce stages to submit again: missing or failed (and not queued), or after a stage they
    /// need is redone for some shard.
    public var reduceStagesNeedingWork: Set<String> {
        let redo = !shardsNeedingWork.isEmpty
        var found = Set<String>()
        for stage in stages where stage.reduce && stage.running.isEmpty && stage.pending.isEmpty {
            let upstreamRedone = redo && dependsOnPerShardWork(stage.stage)
            if !stage.missing.isEmpty || !stage.failed.isEmpty || upstreamRedone || dependsOn(stage.stage, anyOf: found) { found.insert(stage.stage) }
        }
        return found
    }

    private func ancestors(_ stage: String) -> Set<String> {
        var seen = Set<String>()
        var stack = submission.dependencies[stage] ?? []
        while let next = stack.popLast() {
            if seen.insert(next).inserted { stack += submission.dependencies[next] ?? [] }
        }
        return seen
    }

    private func dependsOnPerShardWork(_ stage: String) -> Bool {
        ancestors(stage).contains { !submission.reduceStages.contains($0) }
    }

    private func dependsOn(_ stage: String, anyOf others: Set<String>) -> Bool { !ancestors(stage).isDisjoint(with: others) }

    public static func read(runDirectory: String) throws -> SlurmStatus {
        let submission = try SlurmSubmission.load(runDirectory: runDirectory)
        let spec = try PipelineSpec.load(submission.pipeline)
        let runner = try LocalRunner(spec: spec, options: RunOptions(outputDirectory: submission.runDirectory))
        // One squeue for every job of the run.
        var queued: [Int: [String: String]] = [:]  // shard → stage → state (reduce jobs: shard 0)
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
                    if idParts.count == 1, let job = submission.jobs.first(where: { $0.jobID == parts[0] && $0.indices.isEmpty }) {
                        queued[0, default: [:]][job.stage] = parts[1]
                        continue
                    }
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
            if submission.reduceStages.contains(step.stage) {
                status.reduce = true
                let file = PathText.joined(submission.runDirectory, LocalRunner.reduceFileName(stage: step.stage, output: step.output))
                if let handle = try? HDF5File.open(file) {
                    let finished = handle.root.contains("provenance/\(step.stage)")
                    handle.close()
                    if finished { status.done.append(0); stages.append(status); continue }
                }
                switch queued[0]?[step.stage] {
                case "RUNNING"?, "COMPLETING"?, "CONFIGURING"?: status.running.append(0)
                case let state? where state.hasPrefix("PENDING") || state == "REQUEUED" || state == "SUSPENDED": status.pending.append(0)
                default: status.missing.append(0)
                }
                stages.append(status)
                continue
            }
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
            lines += stage.reduce ? reduceLines(stage) : shardLines(stage)
        }
        lines.append("merge: \(merge)")
        let redo = shardsNeedingWork
        let reduces = reduceStagesNeedingWork
        if !redo.isEmpty || !reduces.isEmpty {
            let what = (redo.isEmpty ? [] : ["shards " + redo.map(String.init).joined(separator: " ")])
                + (reduces.isEmpty ? [] : ["reduce stage(s) " + reduces.sorted().joined(separator: ", ")])
            lines.append("to rerun \(what.joined(separator: " and ")) after fixing their inputs: bioembed submit --resume \(ShellQuote.word(submission.runDirectory))")
        }
        return lines.joined(separator: "\n")
    }

    private func shardLines(_ stage: Stage) -> [String] {
        var lines = ["stage \(stage.stage): shards \(stage.done.count) done, \(stage.failed.count) with failed items, "
                     + "\(stage.running.count) running, \(stage.pending.count) pending, \(stage.missing.count) missing; "
                     + "items \(stage.itemsDone) done, \(stage.itemsFailed) failed"]
        if !stage.failed.isEmpty { lines.append("  shards with failed items: \(stage.failed.map(String.init).joined(separator: " "))") }
        if !stage.missing.isEmpty {
            lines.append("  missing shards (job failed or cancelled; see \(submission.runDirectory)/logs/\(stage.stage)/): \(stage.missing.map(String.init).joined(separator: " "))")
        }
        for failure in stage.failures.prefix(10) { lines.append("  failed \(failure.id) (shard \(failure.shard)): \(failure.message)") }
        if stage.failures.count > 10 { lines.append("  ... \(stage.failures.count - 10) more (see /errors in the shard files)") }
        return lines
    }

    private func reduceLines(_ stage: Stage) -> [String] {
        let state = !stage.done.isEmpty ? "done" : !stage.running.isEmpty ? "running" : !stage.pending.isEmpty ? "pending" : "missing"
        var lines = ["stage \(stage.stage): reduce, one job over all shards: \(state); \(stage.done.count) done, "
                     + "\(stage.running.count) running, \(stage.pending.count) pending, \(stage.missing.count) missing"]
        if state == "missing" { lines.append("  job failed, was cancelled or waits for failed shards; see \(submission.runDirectory)/logs/\(stage.stage)/") }
        return lines
    }
}
