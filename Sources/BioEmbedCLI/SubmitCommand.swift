import ArgumentParser
import BioEmbedCore
import BioEmbedPipeline
import Foundation

/// `bioembed submit`: a pipeline as SLURM job arrays, then exit.
struct SubmitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "submit",
        abstract: "Submit a pipeline to SLURM: a job array per stage over N shards, one job per reduce stage, plus a merge job.",
        discussion: """
            Each array task runs `bioembed run PIPELINE --only STAGE --shard I/N --resume`. A stage waits
            only for the stages it needs (its input file, the file it adds to, shared {output_dir}
            files): shard I of a stage starts when shard I of those succeeded (aftercorr), so independent
            branches never wait for or fail with each other. A reduce stage (training, a group mean) is
            one job after every shard of what it needs (`run --only STAGE --gather N`); the merge job
            builds one file per output when all jobs ended. Scripts, job ids and logs go into the run folder
            (the pipeline's output folder): slurm/, logs/<stage>/<job>_<task>.{out,err}.

            Examples:
              bioembed submit pipelines/proteins.yaml --shards 64 --partition cpu --time 2:00:00 --mem 8G --cpus-per-task 4
              bioembed submit pipelines/proteins.yaml --shards 8 --dry-run        # print the scripts only
              bioembed status out/proteins                                        # later
              bioembed submit --resume out/proteins                               # rerun failed or missing shards
            """)

    @Argument(help: "The pipeline file (YAML); with --resume, the run folder.")
    var target: String

    @Option(help: "Number of shards (array tasks per stage).")
    var shards: Int?

    @Option(name: .customLong("output-dir"), help: "The run folder (default: the pipeline's output_dir).")
    var outputDirectory: String?

    @Option(help: "At most this many tasks of an array run at once (%T).")
    var throttle: Int?

    @Option(help: "SLURM partition.") var partition: String?
    @Option(help: "Time limit per task (e.g. 2:00:00).") var time: String?
    @Option(help: "Memory per task (e.g. 8G).") var mem: String?
    @Option(help: "CPUs per task (BLAS threads follow it).") var cpusPerTask: Int?
    @Option(help: "SLURM account.") var account: String?
    @Option(help: "SLURM QOS.") var qos: String?
    @Option(name: .customLong("sbatch"), help: "An extra #SBATCH line (repeatable), e.g. --sbatch=--constraint=avx512.")
    var sbatchLines: [String] = []

    @Flag(help: "Print the scripts and sbatch commands without submitting.")
    var dryRun = false

    @Flag(name: .customLong("virtual-index"), help: "The merge job also writes <output>.virtual.h5, a virtual-dataset index over the shards.")
    var virtualIndex = false

    @Flag(help: "Resubmit the failed or missing shards of a run folder (and the merge).")
    var resume = false

    @OptionGroup var global: GlobalOptions

    func validate() throws {
        if !resume && shards == nil { throw ValidationError("expected --shards N (or --resume RUN_DIR)") }
        if let shards, shards < 1 { throw ValidationError("--shards: expected a positive number, found \(shards)") }
        if let throttle, throttle < 1 { throw ValidationError("--throttle: expected a positive number, found \(throttle)") }
    }

    var overrides: SlurmSubmission.Resources {
        SlurmSubmission.Resources(partition: partition, time: time, mem: mem, cpusPerTask: cpusPerTask, account: account, qos: qos, extra: sbatchLines)
    }

    func run() throws {
        global.apply()
        try reportingErrors {
            if resume {
                let status = try SlurmStatus.read(runDirectory: target)
                let redo = status.shardsNeedingWork
                let reduces = status.reduceStagesNeedingWork
                if redo.isEmpty && reduces.isEmpty && status.stages.allSatisfy({ $0.running.isEmpty && $0.pending.isEmpty }) && status.merge.hasPrefix("done") {
                    Diagnostics.info("nothing to resubmit: every shard is done and merged")
                    return
                }
                var submission = status.submission
                submission.jobs = submission.jobs.filter { job in
                    job.indices.isEmpty ? !reduces.contains(job.stage) : !job.indices.allSatisfy(redo.contains)
                }
                let (record, _) = try SlurmBackend.submit(submission, only: redo, reduceStages: reduces, dryRun: dryRun)
                let what = (redo.isEmpty ? [] : ["shards " + redo.map(String.init).joined(separator: " ")])
                    + (reduces.isEmpty ? [] : ["reduce stage(s) " + reduces.sorted().joined(separator: ", ")])
                Diagnostics.info("resubmitted \(what.joined(separator: " and ")) of \(record.stages.count) stage(s) and the merge (job \(record.mergeJobID ?? "?"))")
                return
            }
            let path = PathText.absolute(target)
            let spec = try PipelineSpec.load(path)
            let runner = try LocalRunner(spec: spec, options: RunOptions(outputDirectory: outputDirectory.map(PathText.absolute)))
            let runDirectory = PathText.absolute(runner.outputDirectory)
            let base = SlurmSubmission.Resources(spec.slurm, extra: spec.slurmExtra)
            var stageResources: [String: SlurmSubmission.Resources] = [:]
            for entry in spec.stages {
                stageResources[entry.stage] = base.overridden(by: SlurmSubmission.Resources(entry.resources)).overridden(by: overrides)
            }
            var submission = SlurmSubmission(
                pipeline: path, runDirectory: runDirectory, shards: shards!,
                throttle: throttle ?? spec.slurm["throttle"].flatMap { Int($0) } ?? 100,
                executable: executablePath, resources: base.overridden(by: overrides), stageResources: stageResources,
                stages: [], jobs: [], mergeJobID: nil, submittedUTC: "", rounds: 0)
            submission.describe(runner.graph)
            if let problem = runner.graph.shardingProblem() {
                throw PipelineError.invalidParameter(file: path, line: 1, stage: "", problem: problem)
            }
            submission.virtualIndex = virtualIndex
            let (record, printed) = try SlurmBackend.submit(submission, dryRun: dryRun)
            if dryRun {
                print(printed, terminator: "")
                return
            }
            let ids = record.jobs.map { "\($0.stage)=\($0.jobID)" }.joined(separator: " ")
            Diagnostics.info("submitted \(record.stages.count) stage array(s) over \(record.shards) shards: \(ids); merge \(record.mergeJobID ?? "?")")
            Diagnostics.info("follow it with: bioembed status \(ShellQuote.word(runDirectory))")
        }
    }

    /// This program's absolute path (the jobs run the same binary).
    var executablePath: String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? PathText.absolute(CommandLine.arguments[0])
    }
}

/// `bioembed status RUN_DIR`.
struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show a SLURM run's shards and items: done, failed (with reasons), running, pending, missing.",
        discussion: """
            Reads the run folder's done records and asks SLURM once (one batched squeue) what is still
            queued or running.

            Example:
              bioembed status out/proteins
            """)

    @Argument(help: "The run folder written by `bioembed submit`.")
    var runDirectory: String

    @OptionGroup var global: GlobalOptions

    func run() throws {
        global.apply()
        let status = try reportingErrors { try SlurmStatus.read(runDirectory: runDirectory) }
        print(status.text)
    }
}

/// `bioembed merge`: the shard files of a sharded run into one file per output.
struct MergeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "merge",
        abstract: "Merge the shard files of a sharded run (run --shard I/N, or SLURM arrays) into one file per output.",
        discussion: """
            Items in manifest order, /errors and /provenance combined; missing shards are reported
            and the rest is merged (exit 2).

            Example:
              bioembed merge pipelines/proteins.yaml --shards 8 --output-dir out/proteins
              bioembed merge pipelines/proteins.yaml --shards 8 --output-dir out/proteins --virtual   # index only
            """)

    @Argument(help: "The pipeline file (YAML).")
    var pipeline: String

    @Option(help: "Number of shards the run used.")
    var shards: Int

    @Option(name: .customLong("output-dir"), help: "The run folder (default: the pipeline's output_dir).")
    var outputDirectory: String?

    @Flag(help: "Write <output>.virtual.h5, an HDF5 virtual-dataset index over the shards (no copy; items in shard order), instead of the physical merge.")
    var virtual = false

    @OptionGroup var global: GlobalOptions

    func run() throws {
        global.apply()
        let reports = try reportingErrors { () throws -> [ShardMerge.Report] in
            let runner = try LocalRunner(spec: try PipelineSpec.load(pipeline), options: RunOptions(outputDirectory: outputDirectory))
            return virtual ? try ShardMerge.virtualIndex(runner: runner, shards: shards) : try ShardMerge.merge(runner: runner, shards: shards)
        }
        var incomplete = false
        for report in reports {
            Diagnostics.info("merged \(report.output): \(report.items) items, \(report.failed) failed"
                             + (report.missingShards.isEmpty ? "" : "; missing shards \(report.missingShards.map(String.init).joined(separator: " "))")
                             + (report.corruptShards.isEmpty ? "" : "; corrupt shards \(report.corruptShards.map { String($0.index) }.joined(separator: " "))"))
            for shard in report.corruptShards { Diagnostics.error("shard \(shard.index) of \(report.output) is corrupt, left out: \(shard.reason)") }
            incomplete = incomplete || !report.missingShards.isEmpty || !report.corruptShards.isEmpty || report.failed > 0
        }
        if incomplete { throw ExitCode(2) }
    }
}
