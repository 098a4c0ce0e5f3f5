import ArgumentParser
import BioEmbedCore
import BioEmbedPipeline
import Foundation

/// Runs one stage over command-line inputs and reports like `run` does.
/// `inputList`: a file with one input path per line (`--input-list`), instead of `inputs`.
func runStageCommand(_ stage: AnyStage, inputs: [String], inputList: String? = nil, output: String, jobs: Int, global: GlobalOptions, extensions: [String] = []) throws {
    let summary = try reportingErrors { () throws -> StageSummary in
        let items = try inputList.map(InputDiscovery.items(listFile:)) ?? InputDiscovery.items(inputs, extensions: extensions)
        let options = RunOptions(jobs: jobs, threads: global.threads, progress: global.progressMode, command: commandLineText)
        let lock = try OutputLock(forOutput: output)
        defer { withExtendedLifetime(lock) {} }
        return try StageExecutor.execute(stage, items: items, output: output, options: options)
    }
    let run = RunSummary(stages: [summary])
    report(run)
    if run.exitCode != 0 { throw ExitCode(run.exitCode) }
}

/// Prints one summary line per stage (what it did, what resume kept, what failed) and the first
/// failures; the exit code follows docs/layout.md.
///
///     encode_pst: 1 done, 39 cached, 0 failed in 0.21 s -> out/proteins.h5
func report(_ summary: RunSummary) {
    for stage in summary.stages {
        switch stage.notRun {
        case let .failed(message)?:
            Diagnostics.error("\(stage.stage): failed, nothing written: \(message)")
            continue
        case let .skipped(reason)?:
            Diagnostics.info("\(stage.stage): not run: \(reason)")
            continue
        case nil:
            break
        }
        let rate = stage.seconds > 0 && stage.done + stage.failed > 0
            ? String(format: ", %.1f items/s", Double(stage.done + stage.failed) / stage.seconds) : ""
        let kept = stage.wroteOutput ? "" : " (output unchanged)"
        Diagnostics.info("\(stage.stage): \(stage.done) done, \(stage.cached) cached, \(stage.failed) failed in \(String(format: "%.2f", stage.seconds)) s\(rate)\(kept) -> \(stage.output)")
        for failure in stage.failures.prefix(maxFailuresShown) { Diagnostics.info("  failed \(failure.id): \(failure.message)") }
        if stage.failed > min(maxFailuresShown, stage.failures.count) {
            Diagnostics.info("  ... see /errors in \(stage.output) for all \(stage.failed) failures")
        }
    }
}

/// Failures listed under a stage's summary line; the rest are in `/errors`.
private let maxFailuresShown = 10

extension ArgumentHelp {
    /// The help of a stage parameter's flag, from the stage's parameter table (help, allowed values,
    /// unit and default), so `--help`, `run --list-stages` and the pipeline keys cannot drift apart.
    static func parameter<C: StageConfiguration>(_ key: String, of _: C.Type) -> ArgumentHelp {
        ArgumentHelp(C.parameter(key).flagHelp)
    }
}

/// Runs a configuration's one check for a CLI command: its error becomes a usage error naming the
/// flag (`--min-length: expected …`) instead of the pipeline key.
func validating<C: StageConfiguration>(_: C.Type, _ check: () throws -> Void) throws {
    do {
        try check()
    } catch let CoreError.invalidValue(name, expected, found) {
        let flag = C.parameters.first { $0.key == name }?.flag ?? name
        throw ValidationError("\(flag): expected \(expected), found \(found)")
    }
}
