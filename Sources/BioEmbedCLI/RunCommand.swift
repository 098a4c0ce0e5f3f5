import ArgumentParser
import BioEmbedCore
import BioEmbedPipeline
import Foundation

/// `bioembed run PIPELINE.yaml`: every stage of a pipeline file over its manifest.
struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a pipeline file over its manifest.",
        discussion: """
            Each stage writes one HDF5 file into the output folder (written under a temporary name
            and renamed when complete). A failing item is listed in /errors and the run goes on.

            Examples:
              bioembed run pipelines/demo.yaml
              bioembed run pipelines/demo.yaml --jobs 2 --output-dir out/demo2
              bioembed run pipelines/demo.yaml --shard 0/4      # rows 0, 4, 8, ...
              bioembed run pipelines/demo.yaml --resume         # after an interruption or an edit
              bioembed run --list-stages
            """)

    @Argument(help: "The pipeline file (YAML).")
    var pipeline: String?

    @Option(name: .customLong("output-dir"), help: "Write here instead of the pipeline's output_dir.")
    var outputDirectory: String?

    @Option(help: "Items processed at once (BLAS then uses one thread per item).")
    var jobs: Int = 1

    @Option(help: "Run only manifest rows I, I+N, I+2N, ... (I/N, 0-based).")
    var shard: String?

    @Flag(help: "Keep the results of earlier runs whose inputs, parameters and stage version are unchanged (by content hash); redo the rest.")
    var resume = false

    @Option(name: .customLong("checkpoint-every"), help: "Commit work every N inputs or 20 s of work, whichever comes first (at most that much is redone after a kill).")
    var checkpointEvery: Int = 1024

    @Option(help: "Run only this stage of the pipeline (its input file must exist already).")
    var only: String?

    @Option(help: "With --only and a reduce stage (training, a group mean): run it once over the files of N shards (what `submit` does after the shards).")
    var gather: Int?

    @Flag(help: "List the stages a pipeline file can use, with their parameters.")
    var listStages = false

    @OptionGroup var global: GlobalOptions

    func validate() throws {
        if jobs < 1 { throw ValidationError("--jobs: expected a positive number, found \(jobs)") }
        if let gather, gather < 1 { throw ValidationError("--gather: expected a positive number of shards, found \(gather)") }
        if gather != nil && shard != nil { throw ValidationError("--gather runs a stage once over all shards; it excludes --shard") }
        if checkpointEvery < 1 { throw ValidationError("--checkpoint-every: expected a positive number, found \(checkpointEvery)") }
        if pipeline == nil && !listStages { throw ValidationError("expected a pipeline file, e.g. bioembed run pipelines/demo.yaml") }
    }

    func run() throws {
        global.apply()
        if listStages {
            for stage in StageRegistry.stages {
                print("\(stage.name) (\(stage.kind)): \(stage.summary)")
                print("    parameters: \(stage.parameters.keys.joined(separator: ", "))")
                for parameter in stage.parameters { print("      \(parameter.listing)") }
            }
            return
        }
        let summary = try reportingErrors { () throws -> RunSummary in
            let spec = try PipelineSpec.load(pipeline!)
            let options = RunOptions(
                outputDirectory: outputDirectory, jobs: jobs, shard: try shard.map { try Shard(parsing: $0) },
                threads: global.threads, progress: global.progressMode, command: commandLineText, resume: resume,
                checkpointItems: checkpointEvery, only: only, gather: gather)
            return try LocalRunner(spec: spec, options: options).run()
        }
        report(summary)
        if summary.exitCode != 0 { throw ExitCode(summary.exitCode) }
    }
}

extension RunCommand: DeclaresStartupNeeds {
    /// The union of the pipeline's stages; `--list-stages` reports for every stage.
    var startupNeeds: StartupNeeds {
        if listStages { return StageRegistry.anyStartupNeeds }
        return pipeline.map(StageRegistry.startupNeeds(ofPipeline:)) ?? []
    }
}
