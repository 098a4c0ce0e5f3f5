import ArgumentParser
import BioEmbedCore
import BioEmbedPipeline
import Foundation

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

/// Prints the per-stage summary lines and exits with the code of docs/layout.md.
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
