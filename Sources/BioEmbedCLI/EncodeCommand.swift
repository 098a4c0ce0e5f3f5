import ArgumentParser
import BioEmbedCore
import BioEmbedNN
import BioEmbedPipeline

/// `bioembed encode brainmae|pst|molt5`: the encoder stages on a collection file.
struct EncodeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "encode",
        abstract: "Neural embeddings of a collection: /fmri (brainmae), /proteins (pst), /molecules (molt5).",
        discussion: """
            Reads the collection from --input and writes /embeddings/<model> (ids, pooled [N,D],
            per_token + per_token_offsets) to --output. --input and --output may be the same file.
            Weights are safetensors files (scripts/convert_checkpoint.py converts PyTorch checkpoints);
            the config is the model's config.json.

            Examples:
              bioembed encode pst --weights pst_t6.safetensors --config pst_t6.json --input proteins.h5 --output proteins.h5
              bioembed encode molt5 --weights molt5.safetensors --config molt5.json --input mols.h5 --output emb.h5 --pooling nonpad
              bioembed encode brainmae --weights bm.safetensors --config bm.json --input fmri.h5 --output emb.h5 --threads 4
            """,
        subcommands: [EncodePSTCommand.self, EncodeMolT5Command.self, EncodeBrainMAECommand.self])
}

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

    @OptionGroup var global: GlobalOptions

    func validate() throws {
        if batchTokens < 1 { throw ValidationError("--batch-tokens: expected a positive number, found \(batchTokens)") }
    }

    var configuration: EncoderConfiguration {
        EncoderConfiguration(weights: weights, config: config, perToken: perToken, pooling: pooling, batchTokens: batchTokens)
    }

    /// Runs a collection stage and reports like `run` does.
    func run(_ stage: AnyCollectionStage) throws {
        global.apply()
        let summary = try reportingErrors { () throws -> StageSummary in
            let options = RunOptions(threads: global.threads, progress: global.progressMode, command: commandLineText)
            return try StageExecutor.execute(stage, input: input, output: output, options: options)
        }
        let run = RunSummary(stages: [summary])
        report(run)
        if run.exitCode != 0 { throw ExitCode(run.exitCode) }
    }
}

struct EncodePSTCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pst", abstract: "PST (structure-aware ESM-2) embeddings of the /proteins chains.",
        discussion: "Example:\n  bioembed encode pst --weights pst_t6.safetensors --config pst_t6.json --input proteins.h5 --output emb.h5")
    @OptionGroup var options: EncoderOptions
    func run() throws { try options.run(AnyCollectionStage(PSTEncodeStage(options.configuration))) }
}

struct EncodeMolT5Command: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "molt5", abstract: "3D-MolT5 encoder embeddings of the /molecules collection.",
        discussion: "Example:\n  bioembed encode molt5 --weights molt5.safetensors --config molt5.json --input mols.h5 --output emb.h5")
    @OptionGroup var options: EncoderOptions
    func run() throws { try options.run(AnyCollectionStage(MolT5EncodeStage(options.configuration))) }
}

struct EncodeBrainMAECommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "brainmae", abstract: "BrainMAE-ref v0 embeddings of the /fmri time series.",
        discussion: "Example:\n  bioembed encode brainmae --weights bm.safetensors --config bm.json --input fmri.h5 --output emb.h5")
    @OptionGroup var options: EncoderOptions
    func run() throws { try options.run(AnyCollectionStage(BrainMAEEncodeStage(options.configuration))) }
}
