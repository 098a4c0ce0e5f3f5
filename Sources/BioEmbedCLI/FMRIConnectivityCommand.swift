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

    @Option(help: .parameter("kind", of: Configuration.self))
    var kind = Configuration.defaultKind.rawValue

    @Option(help: .parameter("estimator", of: Configuration.self))
    var estimator = Configuration.defaultEstimator

    @Flag(help: .parameter("vectorize", of: Configuration.self))
    var vectorize = false

    @Flag(help: .parameter("discard_diagonal", of: Configuration.self))
    var discardDiagonal = false

    @Option(help: .parameter("window", of: Configuration.self))
    var window: Int?

    @Option(help: .parameter("step", of: Configuration.self))
    var step: Int?

    typealias Configuration = FMRIConnectivityStage.Configuration

    @Option(help: "The HDF5 file to write (may equal --input: groups are added).")
    var output: String

    @OptionGroup var global: GlobalOptions

    func run() throws {
        global.apply()
        let configuration = FMRIConnectivityStage.Configuration(
            kind: [kind], estimator: estimator.rawValue, vectorize: vectorize, discardDiagonal: discardDiagonal,
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

/// `--kind partial-correlation` as well as `partial_correlation` (nilearn's spelling).
extension ConnectivityKind: ExpressibleByArgument {
    public init?(argument: String) { try? self.init(parsing: argument) }
}

/// `--estimator ledoit_wolf` as well as `ledoit-wolf`.
extension CovarianceEstimator: ExpressibleByArgument {
    public init?(argument: String) { self.init(rawValue: argument.replacingOccurrences(of: "_", with: "-")) }
}
