import BioEmbedCore
import BioEmbedHDF5
import Foundation

/// Turns a pipeline into SLURM job arrays and reads their state back. SLURM is the engine:
/// `submit` writes the scripts, calls `sbatch` once per array and exits; `status` reads the done
/// records plus one batched `squeue`; nothing polls.
///
/// Layout of a run folder (the pipeline's output folder): `slurm/<stage>.sbatch`,
/// `slurm/merge.sbatch`, `slurm/submission.json` (job ids), `logs/<stage>/<array job>_<task>.{out,err}`,
/// the shard files `<output>.shard-I-of-N.h5` (+ done records) and, after the merge job, `<output>.h5`.
public enum SlurmBackend {
    /// One scheduler command's result.
    public struct CommandResult: Sendable {
        public var status: Int32
        public var output: String
        public var error: String
    }

    public static func execute(_ arguments: [String]) throws -> CommandResult {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        do { try process.run() } catch {
            throw CoreError.unreadable(file: arguments[0], reason: "cannot run it (\(error)); is SLURM installed and on PATH?")
        }
        let output = out.fileHandleForReading.readDataToEndOfFile()
        let error = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return CommandResult(status: process.terminationStatus, output: String(decoding: output, as: UTF8.self),
                             error: String(decoding: error, as: UTF8.self))
    }

    /// `MaxArraySize` from `scontrol show config` (1001, SLURM's default, when it cannot be read).
    public static func maxArraySize() -> Int {
        guard let result = try? execute(["scontrol", "show", "config"]), result.status == 0 else { return 1001 }
        for line in result.output.split(separator: "\n") where line.hasPrefix("MaxArraySize") {
            if let value = line.split(separator: "=").last.flatMap({ Int($0.trimmingCharacters(in: .whitespaces)) }) { return value }
        }
        return 1001
    }

    /// `0-3,5,7-9` for a sorted list of indices.
    static func arraySpec(_ indices: [Int]) -> String {
        var parts: [String] = []
        var index = 0
        while index < indices.count {
            var end = index
            while end + 1 < indices.count && indices[end + 1] == indices[end] + 1 { end += 1 }
            parts.append(end == index ? "\(indices[index])" : "\(indices[index])-\(indices[end])")
            index = end + 1
        }
        return parts.joined(separator: ",")
    }

    /// The batch script of one stage: an array task per shard, or (a reduce stage) one job over
    /// the files of every shard.
    static func stageScript(_ submission: SlurmSubmission, stage: String) -> String {
        let reduce = submission.reduceStages.contains(stage)
        var lines = ["#!/bin/bash",
                     reduce ? "# BioEmbed stage '\(stage)' of \(submission.pipeline): a reduce stage, one job over all \(submission.shards) shards."
                         : "# BioEmbed stage '\(stage)' of \(submission.pipeline): one array task per shard.",
                     "# Submitted by `bioembed submit` with --output, --error and --dependency (and --array) on the sbatch command line."]
        lines += resourceLines(submission.stageResources[stage] ?? submission.resources)
        let run = [submission.executable, "run", submission.pipeline, "--only", stage].map(ShellQuote.word).joined(separator: " ")
        let which = reduce ? "--gather \(submission.shards)" : "--shard \"$shard/\(submission.shards)\""
        lines += [
            "set -uo pipefail",
            "export HDF5_USE_FILE_LOCKING=FALSE",
            "export OPENBLAS_NUM_THREADS=\"${SLURM_CPUS_PER_TASK:-1}\"",
            "export OMP_NUM_THREADS=\"${SLURM_CPUS_PER_TASK:-1}\"",
        ]
        if !reduce { lines.append("shard=$(( SLURM_ARRAY_TASK_ID + ${BIOEMBED_SHARD_OFFSET:-0} ))") }
        lines += [
            "\(run) \(which) --output-dir \(ShellQuote.word(submission.runDirectory)) --resume --no-progress --threads \"${SLURM_CPUS_PER_TASK:-1}\"",
            "status=$?",
            "# 2 = some items failed (listed in /errors): the shard is done, later stages still run.",
            "if [ \"$status\" -eq 2 ]; then status=0; fi",
            "exit \"$status\"",
        ]
        return lines.joined(separator: "\n") + "\n"
    }

    static func mergeScript(_ submission: SlurmSubmission) -> String {
        var lines = ["#!/bin/bash", "# BioEmbed merge of \(submission.pipeline): one file per output from the \(submission.shards) shards."]
        lines += resourceLines(SlurmSubmission.Resources(
            partition: submission.resources.partition, time: submission.resources.time, mem: submission.resources.mem,
            cpusPerTask: 1, account: submission.resources.account, qos: submission.resources.qos, extra: submission.resources.extra))
        let merge = [submission.executable, "merge", submission.pipeline, "--shards", String(submission.shards), "--output-dir", submission.runDirectory]
            .map(ShellQuote.word).joined(separator: " ")
        lines += ["set -uo pipefail", "export HDF5_USE_FILE_LOCKING=FALSE", "export OPENBLAS_NUM_THREADS=1"]
        if submission.virtualIndex { lines.append(merge + " --virtual") }
        lines.append(merge)
        return lines.joined(separator: "\n") + "\n"
    }

    static func resourceLines(_ resources: SlurmSubmission.Resources) -> [String] {
        var lines: [String] = []
        if let value = resources.partition { lines.append("#SBATCH --partition=\(value)") }
        if let value = resources.time { lines.append("#SBATCH --time=\(value)") }
        if let value = resources.mem { lines.append("#SBATCH --mem=\(value)") }
        if let value = resources.cpusPerTask { lines.append("#SBATCH --cpus-per-task=\(value)") }
        if let value = resources.account { lines.append("#SBATCH --account=\(value)") }
        if let value = resources.qos { lines.append("#SBATCH --qos=\(value)") }
        for line in resources.extra { lines.append("#SBATCH " + line) }
        return lines
    }

    /// Writes the scripts and submits the arrays (shards `only`, default all) and the merge job.
    ///
    /// - Returns: the submission record, and the text printed for `--dry-run`.
    /// - Parameters:
    ///   - shardsToRun: the shards of the per-shard stages (default all).
    ///   - reduceStagesToRun: the reduce stages to submit (default all).
    public static func submit(_ submission: SlurmSubmission, only shardsToRun: [Int]? = nil, reduceStages reduceStagesToRun: Set<String>? = nil,
                              dryRun: Bool) throws -> (SlurmSubmission, String) {
        try submission.checkScriptValues()
        var record = submission
        let folder = PathText.joined(submission.runDirectory, "slurm")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        var printed = ""
        let shards = shardsToRun ?? Array(0..<submission.shards)
        let maxArray = dryRun ? 1001 : maxArraySize()
        // Arrays larger than MaxArraySize are split; chunk c runs shards c·M ..< (c+1)·M (offset c·M).
        var chunks: [(offset: Int, indices: [Int])] = []
        for shard in shards {
            let offset = (shard / maxArray) * maxArray
            if chunks.last?.offset == offset { chunks[chunks.count - 1].indices.append(shard - offset) } else { chunks.append((offset, [shard - offset])) }
        }
        // Job ids per stage: per chunk for a per-shard stage, one for a reduce stage. A stage's jobs
        // wait only for the stages it needs (shard by shard, or for the whole reduce job).
        var chunkJobs: [String: [Int: String]] = [:]
        var reduceJob: [String: String] = [:]
        var allJobs: [String] = []
        record.rounds += 1
        for stage in submission.stages {
            let reduce = submission.reduceStages.contains(stage)
            let needs = submission.dependencies[stage] ?? []
            if reduce, let redo = reduceStagesToRun, !redo.contains(stage) { continue }
            let script = PathText.joined(folder, "\(stage).sbatch")
            let text = stageScript(submission, stage: stage)
            try text.write(toFile: script, atomically: true, encoding: .utf8)
            let logs = PathText.joined(submission.runDirectory, "logs/\(stage)")
            try FileManager.default.createDirectory(atPath: logs, withIntermediateDirectories: true)
            func submitJob(_ arguments: [String], label: String) throws -> String {
                if dryRun {
                    printed += "# " + arguments.map(ShellQuote.word).joined(separator: " ") + "\n"
                    return "DRYRUN-\(label)"
                }
                let result = try execute(arguments)
                guard result.status == 0, let id = result.output.split(separator: ";").first.map({ $0.trimmingCharacters(in: .whitespacesAndNewlines) }),
                      !id.isEmpty else {
                    throw CoreError.invalidValue(name: "sbatch", expected: "a job id", found: "exit \(result.status): \(result.error.trimmingCharacters(in: .whitespacesAndNewlines))")
                }
                return id
            }
            if reduce {
                var after: [String] = []
                for need in needs {
                    if let id = reduceJob[need] { after.append(id) }
                    after += (chunkJobs[need] ?? [:]).keys.sorted().map { chunkJobs[need]![$0]! }
                }
                var arguments = ["sbatch", "--parsable", "--job-name=bioembed-\(stage)", "--output=\(logs)/%j.out", "--error=\(logs)/%j.err"]
                if !after.isEmpty { arguments += ["--dependency=afterok:" + after.joined(separator: ":"), "--kill-on-invalid-dep=yes"] }
                arguments.append(script)
                let id = try submitJob(arguments, label: stage)
                reduceJob[stage] = id
                allJobs.append(id)
                if !dryRun { record.jobs.append(.init(stage: stage, jobID: id, offset: 0, indices: [])) }
            } else {
                for (chunk, (offset, indices)) in chunks.enumerated() {
                    var arguments = ["sbatch", "--parsable", "--job-name=bioembed-\(stage)",
                                     "--array=\(arraySpec(indices))%\(max(1, submission.throttle))",
                                     "--output=\(logs)/%A_%a.out", "--error=\(logs)/%A_%a.err",
                                     "--export=ALL,BIOEMBED_SHARD_OFFSET=\(offset)"]
                    var conditions: [String] = []
                    for need in needs {
                        if let id = reduceJob[need] { conditions.append("afterok:\(id)") }
                        if let id = chunkJobs[need]?[chunk] { conditions.append("aftercorr:\(id)") }
                    }
                    if !conditions.isEmpty { arguments += ["--dependency=" + conditions.joined(separator: ","), "--kill-on-invalid-dep=yes"] }
                    arguments.append(script)
                    let id = try submitJob(arguments, label: "\(stage)-\(chunk)")
                    chunkJobs[stage, default: [:]][chunk] = id
                    allJobs.append(id)
                    if !dryRun { record.jobs.append(.init(stage: stage, jobID: id, offset: offset, indices: indices.map { $0 + offset })) }
                }
            }
            if dryRun { printed += "# ---- \(script)\n" + text }
        }
        let mergeScriptPath = PathText.joined(folder, "merge.sbatch")
        let mergeText = mergeScript(submission)
        try mergeText.write(toFile: mergeScriptPath, atomically: true, encoding: .utf8)
        let mergeLogs = PathText.joined(submission.runDirectory, "logs/merge")
        try FileManager.default.createDirectory(atPath: mergeLogs, withIntermediateDirectories: true)
        let mergeArguments = ["sbatch", "--parsable", "--job-name=bioembed-merge", "--output=\(mergeLogs)/%j.out", "--error=\(mergeLogs)/%j.err",
                              "--dependency=afterany:" + allJobs.joined(separator: ":"), mergeScriptPath]
        if dryRun {
            printed += "# " + mergeArguments.map(ShellQuote.word).joined(separator: " ") + "\n# ---- \(mergeScriptPath)\n" + mergeText
        } else {
            let result = try execute(mergeArguments)
            guard result.status == 0 else {
                throw CoreError.invalidValue(name: "sbatch (merge)", expected: "a job id", found: result.error.trimmingCharacters(in: .whitespacesAndNewlines))
            }
            record.mergeJobID = result.output.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
            record.submittedUTC = Timestamp.nowUTC()
            try record.save()
        }
        return (record, printed)
    }
}
