import ArgumentParser
import BioEmbedCore
import BioEmbedLinalg
import BioEmbedNN
import BioEmbedPipeline

/// The flags every `encode` subcommand takes (= the stage parameters).
struct EncoderOptions: ParsableArguments {
    @Option(help: "Model weights (safetensors).")
    var weights: String

    @Option(help: "The model's config.json.")
    var config: String

    @Option(help: "The HDF5 file holding the input collection.")
    var input: String

    @Option(help: "The HDF5 file to write (may equal --input: the embeddings are added to it).")
    var output: String

    @Flag(inversion: .prefixedNo, help: "Store per-token embeddings (per residue, per token, per segment).")
    var perToken = true

    @Option(help: "Pooling (pst: mean; molt5: selfies|nonpad; brainmae: cls|mean).")
    var pooling: String?

    @Option(help: "Tokens per packed batch (items sorted by length).")
    var batchTokens = 4096

    @Option(help: "pst: chains longer than the model's max_residues: fail (an item error), truncate, or windows (overlapping, per-residue outputs averaged).")
    var longChains: LongChainPolicy = .fail

    @Option(help: "pst, --long-chains windows: residues shared by consecutive windows.")
    var windowOverlap = EncoderConfiguration.defaultWindowOverlap

    @Option(help: "GEMM precision of the Linear layers: fp32, or bf16 (bfloat16 weights and products with float32 accumulation, on CPUs with AVX-512 BF16 or AMX; elsewhere float32, said on stderr and in the 'precision' attribute).")
    var precision: Precision = .fp32

    @Flag(help: "Reuse the embeddings the existing --output holds for items whose content, model and settings are unchanged; compute the rest.")
    var resume = false

    @OptionGroup var global: GlobalOptions

    func validate() throws {
        if batchTokens < 1 { throw ValidationError("--batch-tokens: expected a positive number, found \(batchTokens)") }
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
