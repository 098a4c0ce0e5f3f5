import ArgumentParser
import BioEmbedCore
import BioEmbedLinalg
import BioEmbedNN
import BioEmbedPipeline

/// The flags every `encode` subcommand takes (= the stage parameters).
struct EncoderOptions: ParsableArguments {
    @Option(help: .parameter("weights", of: Configuration.self))
    var weights: String

    @Option(help: .parameter("config", of: Configuration.self))
    var config: String

    @Option(help: "The HDF5 file holding the input collection.")
    var input: String

    @Option(help: "The HDF5 file to write (may equal --input: the embeddings are added to it).")
    var output: String

    @Flag(inversion: .prefixedNo, help: .parameter("per_token", of: Configuration.self))
    var perToken = Self.defaults.perToken

    @Option(help: .parameter("pooling", of: Configuration.self))
    var pooling: String?

    @Option(help: .parameter("batch_tokens", of: Configuration.self))
    var batchTokens = Self.defaults.batchTokens

    @Option(help: .parameter("long_chains", of: Configuration.self))
    var longChains = Self.defaults.longChains

    @Option(help: .parameter("window_overlap", of: Configuration.self))
    var windowOverlap = Self.defaults.windowOverlap

    @Option(help: .parameter("precision", of: Configuration.self))
    var precision = Self.defaults.precision

    @Flag(help: "Reuse the embeddings the existing --output holds for items whose content, model and settings are unchanged; compute the rest.")
    var resume = false

    @OptionGroup var global: GlobalOptions

    typealias Configuration = EncoderConfiguration
    private static let defaults = Configuration(weights: "", config: "")

    func validate() throws {
        try validating(Configuration.self) { try configuration.validate() }
    }

    var configuration: EncoderConfiguration {
        EncoderConfiguration(
            weights: weights, config: config, perToken: perToken, pooling: pooling, batchTokens: batchTokens,
            longChains: longChains, windowOverlap: windowOverlap, precision: precision)
    }

    /// Runs a collection stage and reports like `run` does.
    func run(_ stage: AnyCollectionStage) throws {
        global.apply()
        let summary = try reportingErrors { () throws -> StageSummary in
            let options = RunOptions(threads: global.threads, progress: global.progressMode, command: commandLineText, resume: resume)
            let lock = try OutputLock(forOutput: output)
            defer { withExtendedLifetime(lock) {} }
            return try StageExecutor.execute(stage, input: input, output: output, previous: resume ? output : nil, options: options)
        }
        let run = RunSummary(stages: [summary])
        report(run)
        if run.exitCode != 0 { throw ExitCode(run.exitCode) }
    }
}

extension LongChainPolicy: ExpressibleByArgument {}
extension Precision: ExpressibleByArgument {}
