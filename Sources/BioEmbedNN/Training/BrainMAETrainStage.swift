import BioEmbedCore
import BioEmbedHDF5
import Foundation

/// `train_brainmae`: pre-trains BrainMAE-ref v0 on the `/fmri` collection of its input
/// (`BrainMAETrainer`) and writes the weights to `weights` (+ `<stem>.config.json`, state file).
/// The output HDF5 gets `/training/brainmae`: the subject ids with their split (`heldout` 1/0), the
/// per-step training loss and the held-out loss per epoch (attributes: weights path, steps, segments/s). Any bad subject stops training
/// before the first step (a training set with holes is not what the user asked for).
public struct BrainMAETrainStage: CollectionStage {
    public static let name = "train_brainmae"
    public static let startupNeeds: StartupNeeds = .blas
    public static let version = 1
    public static let summary = "BrainMAE masked-autoencoder pre-training on /fmri -> safetensors weights (+ /training/brainmae losses)."
    public static let inputCollection = "fmri"
    public static let outputSchema = BioEmbedVersion.schema(of: "training")

    /// Keys = the CLI flags of `bioembed train brainmae`.
    public struct Configuration: StageConfiguration {
        public var config: String
        public var weights: String
        public var epochs: Int?
        public var seed: UInt64
        public var resume: Bool
        public static let parameters: [StageParameter] = {
            let d = Configuration(config: "", weights: "")
            return [
                StageParameter("config", .file, help: "Model config.json (sizes; optional training keys). Required."),
                StageParameter("weights", .file, help: "Weights to write (safetensors; with <stem>.config.json and <weights>.state.safetensors). Required; on the CLI --output."),
                StageParameter("epochs", .integer, help: "Total epochs, at least 1 (default: the config's epochs, else 10)."),
                StageParameter("seed", .integer, default: d.seed, help: "Seed of initialisation, split, shuffles and masks."),
                StageParameter("resume", .boolean, default: d.resume, help: "Continue from the checkpoint at the weights path."),
            ]
        }()

        /// The defaults, declared here once (the table, the pipeline decoder and the CLI read them).
        public init(config: String, weights: String, epochs: Int? = nil, seed: UInt64 = 0, resume: Bool = false) {
            self.config = config; self.weights = weights; self.epochs = epochs; self.seed = seed; self.resume = resume
        }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            config = try c.decode(String.self, forKey: .config)
            weights = try c.decode(String.self, forKey: .weights)
            let d = Configuration(config: config, weights: weights)
            epochs = try c.decodeIfPresent(Int.self, forKey: .epochs)
            seed = try c.decodeIfPresent(UInt64.self, forKey: .seed) ?? d.seed
            resume = try c.decodeIfPresent(Bool.self, forKey: .resume) ?? d.resume
            try validate()
        }

        /// The one check of the values, for pipeline files and the CLI alike.
        public func validate() throws(CoreError) {
            if let epochs, epochs < 1 { throw .invalidValue(name: "epochs", expected: "a positive number", found: "\(epochs)") }
        }
    }

    public let configuration: Configuration
    public init(_ configuration: Configuration) { self.configuration = configuration }
    /// One model from every subject: never trained per shard.
    public var kind: CollectionStageKind { .reduce }
    public static var kindDescription: String { "reduce" }

    public func run(input: HDF5File, output: HDF5File, errors: ErrorLog, context: CollectionStageContext) throws -> CollectionStageResult {
        let c = configuration
        let report = try BrainMAETrainer(.init(input: input.path, config: c.config, output: c.weights, epochs: c.epochs, seed: c.seed, resume: c.resume, parallelSegments: true)).run(reading: input)
        let training = output.root.contains("training") ? try output.root.group("training") : try output.root.createGroup("training")
        if training.contains("brainmae") { try training.remove("brainmae") }
        let group = try training.createGroup("brainmae")
        try group.writeStrings("ids", report.subjects)
        try group.write("heldout", report.heldOut.map { Int64($0 ? 1 : 0) })
        if !report.trainingLoss.isEmpty { try group.write("train_loss", report.trainingLoss) }
        if !report.heldOutLoss.isEmpty { try group.write("heldout_loss", report.heldOutLoss) }
        try group.setAttribute("weights", .string(c.weights))
        try group.setAttribute("steps", .int(Int64(report.steps)))
        try group.setAttribute("segments_per_second", .double(report.segmentsPerSecond))
        return CollectionStageResult(done: 1, failed: 0, inputs: [Provenance.Input(path: c.config, sha256: try SHA256.hex(ofFile: c.config))])
    }
}
