import ArgumentParser
import BioEmbedCore
import BioEmbedNN
import Foundation

/// `bioembed train brainmae`: masked-autoencoder pre-training of BrainMAE on a /fmri collection.
struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Pre-train an encoder on your own data (brainmae).",
        discussion: """
            Example:
              bioembed train brainmae --input fmri.h5 --config bm.json --output bm.safetensors --epochs 20 --seed 1
              bioembed encode brainmae --weights bm.safetensors --config bm.config.json --input fmri.h5 --output emb.h5
            """,
        subcommands: [TrainBrainMAECommand.self])
}

struct TrainBrainMAECommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "brainmae", abstract: "BrainMAE masked-autoencoder pre-training on the /fmri time series.",
        discussion: """
            Segments every subject's series as `encode brainmae` does (z-score per ROI, segments of seg_len frames), cuts them into windows of window_segments segments, holds out holdout_fraction of the subjects, and trains with AdamW on the masked-reconstruction loss (a random ROI mask per segment, ratio ~ U[0, 0.8]).

            Optional training keys of the config: batch_size, lr, weight_decay, adam_beta1, adam_beta2, adam_eps, schedule (cosine|constant), warmup_fraction, clip_norm, holdout_fraction, window_segments, mask_ratio_max, checkpoint_every (steps), epochs.

            Writes --output (safetensors, loadable by `encode brainmae`), <stem>.config.json and <output>.state.safetensors (optimizer state for --resume), each atomically. --epochs is the total: --resume continues an interrupted run to that total and ends with the same weights as an uninterrupted run.

            Examples:
              bioembed train brainmae --input fmri.h5 --config bm.json --output bm.safetensors
              bioembed train brainmae --input fmri.h5 --config bm.json --output bm.safetensors --epochs 50 --seed 7 --resume
            """)

    @Option(help: "HDF5 file with the /fmri collection.")
    var input: String

    @Option(help: .parameter("config", of: Configuration.self))
    var config: String

    @Option(help: .parameter("weights", of: Configuration.self))
    var output: String

    @Option(help: .parameter("epochs", of: Configuration.self))
    var epochs: Int?

    @Option(help: .parameter("seed", of: Configuration.self))
    var seed = Self.defaults.seed

    @Flag(help: .parameter("resume", of: Configuration.self))
    var resume = Self.defaults.resume

    @OptionGroup var global: GlobalOptions

    typealias Configuration = BrainMAETrainStage.Configuration
    private static let defaults = Configuration(config: "", weights: "")

    var configuration: Configuration { Configuration(config: config, weights: output, epochs: epochs, seed: seed, resume: resume) }

    func validate() throws {
        try validating(Configuration.self) { try configuration.validate() }
    }

    func run() throws {
        global.apply()
        let report = try reportingErrors { () throws -> BrainMAETrainer.Report in
            let c = configuration
            return try BrainMAETrainer(.init(input: input, config: c.config, output: c.weights, epochs: c.epochs, seed: c.seed, resume: c.resume, parallelSegments: true)).run()
        }
        let heldOut = report.heldOutLoss.map { String(format: "%.5f", $0) }.joined(separator: " → ")
        Diagnostics.info(
            "train brainmae: \(report.steps) steps, \(String(format: "%.1f", report.segmentsPerSecond)) segments/s, median step \(String(format: "%.3f", report.medianStepSeconds)) s"
                + (heldOut.isEmpty ? "" : ", held-out loss \(heldOut)") + "; wrote \(output)")
    }
}

extension TrainBrainMAECommand: DeclaresStartupNeeds {
    var startupNeeds: StartupNeeds { BrainMAETrainStage.startupNeeds }
}
