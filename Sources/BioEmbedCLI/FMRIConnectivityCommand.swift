import ArgumentParser
import BioEmbedCore
import BioEmbedNeuro
import BioEmbedPipeline

/// `bioembed fmri connectivity`: the `fmri_connectivity` collection stage.
struct FMRIConnectivityCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "connectivity",
        abstract: "/fmri time series -> connectivity/<kind> (nilearn ConnectivityMeasure) and sliding-window correlation.",
        discussion: """
            Ledoit-Wolf by default, as nilearn (its correlation is (1 - shrinkage) x Pearson off the
            diagonal); --estimator empirical gives Pearson. --input and --output may be the same file.

            Examples:
              bioembed fmri connectivity --input fmri.h5 --output fmri.h5
              bioembed fmri connectivity --input fmri.h5 --kind correlation,partial-correlation,tangent \\
                  --window 30 --step 5 --output fc.h5
            """)

    @Option(help: "The file with /fmri (from fmri extract).")
    var input: String

    @Option(help: "Comma-separated: correlation, partial-correlation, tangent, covariance, precision.")
    var kind: String = "correlation"

    @Option(help: "ledoit-wolf|empirical.")
    var estimator: String = "ledoit-wolf"

    @Flag(help: "Also write connectivity/<kind>_vectorized (sym_matrix_to_vec).")
    var vectorize = false

    @Flag(help: "With --vectorize: leave the diagonal out.")
    var discardDiagonal = false

    @Option(help: "Sliding-window length in volumes (dynamic/correlation).")
    var window: Int?

    @Option(help: "Sliding-window step in volumes.")
    var step: Int?

    @Option(help: "The HDF5 file to write (may equal --input: groups are added).")
    var output: String

    @OptionGroup var global: GlobalOptions

    func run() throws {
        global.apply()
        let configuration = FMRIConnectivityStage.Configuration(
            kind: [kind], estimator: estimator, vectorize: vectorize, discardDiagonal: discardDiagonal,
            window: window, step: window != nil ? (step ?? 1) : step)
        try runCollectionCommand(AnyCollectionStage(FMRIConnectivityStage(configuration)), input: input, output: output, global: global) {
            try configuration.validate()
        }
    }
}

/// Runs one collection stage and reports like `run` does (exit 2 when some subjects failed).
func runCollectionCommand(_ stage: AnyCollectionStage, input: String, output: String, global: GlobalOptions, validate: () throws -> Void) throws {
    let summary = try reportingErrors { () throws -> StageSummary in
        try validate()
        let options = RunOptions(jobs: 1, threads: global.threads, progress: global.progressMode, command: commandLineText)
        let lock = try OutputLock(forOutput: output)
        defer { withExtendedLifetime(lock) {} }
        return try StageExecutor.execute(stage, input: input, output: output, previous: nil, options: options)
    }
    let run = RunSummary(stages: [summary])
    report(run)
    if run.exitCode != 0 { throw ExitCode(run.exitCode) }
}

extension FMRIConnectivityCommand: DeclaresStartupNeeds {
    var startupNeeds: StartupNeeds { FMRIConnectivityStage.startupNeeds }
}
