import ArgumentParser
import BioEmbedCore
import BioEmbedPipeline
import Foundation

/// `bioembed checksum`: the `checksum` stage on files given on the command line.
struct ChecksumCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "checksum",
        abstract: "Fingerprint files: size, SHA-256, byte histogram and per-block CRC-32 (the demo's stage).",
        discussion: """
            The same stage as `stage: checksum` in a pipeline file, with the same parameters as flags.

            Examples:
              bioembed checksum --input examples/ --output out/files.h5
              bioembed checksum --input 'data/*.nii.gz' --block-size 1048576 --output files.h5
            """)

    @Option(name: .long, parsing: .upToNextOption, help: "Files, folders (searched recursively) or glob patterns.")
    var input: [String]

    @Option(help: "The HDF5 file to write (replaced when complete).")
    var output: String

    @Option(help: "Bytes per CRC-32 block.")
    var blockSize: Int = 65_536

    @Flag(inversion: .prefixedNo, help: "Fingerprint the decompressed content of gzip files.")
    var decompress = true

    @Option(help: "Items processed at once.")
    var jobs: Int = 1

    @OptionGroup var global: GlobalOptions

    func validate() throws {
        if blockSize < 1 { throw ValidationError("--block-size: expected a positive number of bytes, found \(blockSize)") }
        if jobs < 1 { throw ValidationError("--jobs: expected a positive number, found \(jobs)") }
    }

    func run() throws {
        global.apply()
        let stage = AnyStage(FileChecksumStage(.init(blockSize: blockSize, decompress: decompress)))
        try runStageCommand(stage, inputs: input, output: output, jobs: jobs, global: global)
    }
}

/// Runs one stage over command-line inputs and reports like `run` does.
func runStageCommand(_ stage: AnyStage, inputs: [String], output: String, jobs: Int, global: GlobalOptions, extensions: [String] = []) throws {
    let summary = try reportingErrors { () throws -> StageSummary in
        let items = try InputDiscovery.items(inputs, extensions: extensions)
        let options = RunOptions(jobs: jobs, threads: global.threads, progress: global.progressMode, command: commandLineText)
        return try StageExecutor.execute(stage, items: items, output: output, options: options)
    }
    let run = RunSummary(stages: [summary])
    report(run)
    if run.exitCode != 0 { throw ExitCode(run.exitCode) }
}

/// Prints the per-stage summary lines and exits with the code of contract.md.
func report(_ summary: RunSummary) {
    for stage in summary.stages {
        let rate = stage.seconds > 0 ? String(format: ", %.1f items/s", Double(stage.done + stage.failed) / stage.seconds) : ""
        if !stage.wroteOutput && stage.done == 0 && stage.failed == 0 {
            Diagnostics.info("\(stage.stage): unchanged since the last run (cached) -> \(stage.output)")
            continue
        }
        let cached = stage.cached > 0 ? " (\(stage.cached) inputs cached from an earlier run)" : ""
        Diagnostics.info("\(stage.stage): \(stage.done) done, \(stage.failed) failed in \(String(format: "%.2f", stage.seconds)) s\(rate)\(cached) -> \(stage.output)")
        for failure in stage.failures.prefix(10) { Diagnostics.info("  failed \(failure.id): \(failure.message)") }
        if stage.failed > min(10, stage.failures.count) {
            Diagnostics.info("  ... see /errors in \(stage.output) for all \(stage.failed) failures")
        }
    }
}
