import BioEmbedHDF5
import BioEmbedCore
import Foundation

/// The `bioembed train brainmae` loop: masked-autoencoder pre-training of BrainMAE-ref v0 on a
/// `/fmri` collection (docs/models.md, BrainMAE training step) in float32.
///
/// Per epoch the training windows are shuffled (stream of `seed` and the epoch), cut into
/// mini-batches of `batch_size`; each step draws its mask from (`seed`, step), so a run is a pure
/// function of (data, config, seed, epochs) and `--resume` (weights + AdamW moments + step from
/// the last checkpoint) ends bit-for-bit where an uninterrupted run ends. After each epoch the
/// held-out loss (fixed masks) is reported. Checkpoints: `<output>` (F32 weights incl. the
/// `pos_embed` buffers, loadable by `encode_brainmae`), `<output stem>.config.json` and
/// `<output>.state.safetensors` (AdamW moments, step), each written atomically.
public struct BrainMAETrainer: Sendable {
    public struct Options: Sendable {
        public var input: String
        public var config: String
        public var output: String
        public var epochs: Int?
        public var seed: UInt64
        public var resume: Bool
        /// Stop after this many steps of the run (for interruption tests); nil = run to the end.
        public var stopAfterSteps: Int?
        /// `BrainMAETrainingModel.parallelSegments` (changes OpenBLAS's process-wide thread count:
        /// on in the CLI and the pipeline stage, off where other models run concurrently).
        public var parallelSegments: Bool

        public init(
            input: String, config: String, output: String, epochs: Int? = nil, seed: UInt64 = 0, resume: Bool = false, stopAfterSteps: Int? = nil,
            parallelSegments: Bool = false
        ) {
            self.input = input; self.config = config; self.output = output; self.epochs = epochs; self.seed = seed; self.resume = resume
            self.stopAfterSteps = stopAfterSteps; self.parallelSegments = parallelSegments
        }
    }

    /// What a run did.
    public struct Report: Sendable {
        public var steps: Int
        public var trainingLoss: [Double]
        /// Held-out loss before training (index 0) and after each epoch.
        public var heldOutLoss: [Double]
        public var segmentsPerSecond: Double
        /// Median wall seconds of one step (loss, gradients, update).
        public var medianStepSeconds: Double
        /// Subject ids of the collection and whether each is in the held-out split.
        public var subjects: [String] = []
        public var heldOut: [Bool] = []
    }

    public let options: Options
    public init(_ options: Options) { self.options = options }

    public static func configPath(forWeights path: String) -> String {
        (path.hasSuffix(".safetensors") ? String(path.dropLast(".safetensors".count)) : path) + ".config.json"
    }

    public static func statePath(forWeights path: String) -> String { path + ".state.safetensors" }

    /// Trains on `options.input`, or on `file` when given (already open, e.g. by a pipeline).
    public func run(reading source: HDF5File? = nil) throws -> Report {
        let file = try ModelConfigFile(path: options.config)
        let config = try BrainMAEConfig(file)
        guard config.decDepth >= 0, file.values["dec_dim"] != nil else {
            throw NNError.invalidConfig(file: options.config, key: "dec_dim", expected: "decoder sizes (dec_dim, dec_depth, dec_heads) for pre-training", found: "nothing")
        }
        var settings = try TrainingSettings(file, model: config)
        if let epochs = options.epochs { settings.epochs = epochs }
        let data = try source.map {
            try TrainingData(file: $0, config: config, windowSegments: settings.windowSegments, holdoutFraction: settings.holdoutFraction, seed: options.seed)
        } ?? TrainingData(
            path: options.input, config: config, windowSegments: settings.windowSegments, holdoutFraction: settings.holdoutFraction, seed: options.seed)
        guard !data.trainingWindows.isEmpty else {
            throw NNError.invalidInput(file: options.input, expected: "at least one training window", found: "none")
        }
        let parameters: ParameterSet<Float>
        var encPos: [Float]? = nil, decPos: [Float]? = nil
        var startStep = 0
        var state: SafeTensors? = nil
        if options.resume {
            guard FileManager.default.fileExists(atPath: options.output) else {
                throw NNError.invalidWeights(file: options.output, detail: "--resume: no checkpoint to resume from")
            }
            let loaded: (parameters: ParameterSet<Float>, encoderPositions: [Float]?, decoderPositions: [Float]?) =
                try TrainingCheckpoint.loadParameters(config: config, path: options.output)
            parameters = loaded.parameters; encPos = loaded.encoderPositions; decPos = loaded.decoderPositions
            let stateFile = try SafeTensors(path: Self.statePath(forWeights: options.output))
            guard let step = stateFile.metadata["step"].flatMap(Int.init), let seed = stateFile.metadata["seed"].flatMap(UInt64.init) else {
                throw NNError.invalidWeights(file: stateFile.path, detail: "metadata lacks 'step' or 'seed'")
            }
            guard seed == options.seed else {
                throw NNError.invalidConfig(file: stateFile.path, key: "seed", expected: "\(options.seed) (--seed)", found: "\(seed) in the checkpoint")
            }
            if let recorded = stateFile.metadata["config_sha256"], recorded != SHA256.hex(Array(file.text.utf8)) {
                Diagnostics.warning("\(options.config) differs from the config the checkpoint was trained with: the resumed run will not equal an uninterrupted one")
            }
            startStep = step
            state = stateFile
        } else {
            parameters = TrainingCheckpoint.initialParameters(config: config, seed: options.seed)
        }
        let model = BrainMAETrainingModel(config: config, parameters: parameters, encoderPositions: encPos, decoderPositions: decPos)
        model.parallelSegments = options.parallelSegments
        let adam = AdamW(parameters, settings: settings.adam, decayed: BrainMAETrainingModel<Float>.isDecayed)
        adam.parallel = options.parallelSegments
        if let state {
            for (i, name) in parameters.names.enumerated() {
                for (prefix, target) in [("adam.m.", adam.m), ("adam.v.", adam.v)] {
                    guard let entry = state.entries[prefix + name], entry.shape == parameters.shapes[i] else {
                        throw NNError.tensorShape(file: state.path, name: prefix + name, expected: parameters.shapes[i], found: state.entries[prefix + name]?.shape ?? [])
                    }
                    let values = try state.tensor(prefix + name).data
                    for j in 0..<values.count { target[parameters.offsets[i] + j] = values[j] }
                }
            }
            adam.step = startStep
        }

        let b = settings.batchSize, k = data.windowSegments, n = config.rois
        let stepsPerEpoch = (data.trainingWindows.count + b - 1) / b
        let totalSteps = stepsPerEpoch * settings.epochs
        guard startStep <= totalSteps else {
            throw NNError.invalidConfig(
                file: options.config, key: "epochs", expected: "at least the \(startStep) steps already in the checkpoint",
                found: "\(settings.epochs) epochs = \(totalSteps) steps")
        }
        Diagnostics.info(
            "train brainmae: \(data.trainingWindows.count) training / \(data.heldOutWindows.count) held-out windows of \(k) segments, "
                + "\(stepsPerEpoch) steps/epoch, \(settings.epochs) epochs\(startStep > 0 ? ", resuming at step \(startStep)" : "")")
        var report = Report(steps: 0, trainingLoss: [], heldOutLoss: [], segmentsPerSecond: 0, medianStepSeconds: 0)
        var stepSeconds: [Double] = []
        report.subjects = data.subjects
        let heldOutSubjects = Set(data.heldOutWindows.map { data.subjectOfWindow[$0] })
        report.heldOut = data.subjects.indices.map { heldOutSubjects.contains($0) }
        if startStep == 0, let loss = heldOutLoss(model, data: data, settings: settings) {
            report.heldOutLoss.append(loss)
            Diagnostics.info("train brainmae: held-out loss before training \(format(loss))")
        }
        var step = startStep
        var segmentsDone = 0
        let started = Date()
        var lastReport = Date()
        while step < totalSteps {
            if let stop = options.stopAfterSteps, step - startStep >= stop { break }
            let stepStarted = Date()
            let epoch = step / stepsPerEpoch, within = step % stepsPerEpoch
            var order = data.trainingWindows
            var shuffler = TrainingRandom(seed: options.seed, stream: 1, index: UInt64(epoch))
            shuffler.shuffle(&order)
            let members = Array(order[(within * b)..<min(order.count, (within + 1) * b)])
            var segments: [Float] = []
            segments.reserveCapacity(members.count * k * n * config.segmentLength)
            for w in members { segments += data.windows[w] }
            var rng = TrainingRandom(seed: options.seed, stream: 2, index: UInt64(step))
            let mask = TrainingData.mask(batch: members.count, segments: k, rois: n, ratioMax: settings.maskRatioMax, random: &rng)
            let loss = model.step(segments: segments, mask: mask, batch: members.count, segmentCount: k)
            guard loss[0].isFinite else {
                throw NNError.invalidInput(file: options.input, expected: "a finite training loss", found: "\(loss[0]) at step \(step + 1) (lower lr or set clip_norm)")
            }
            if settings.clipNorm > 0 {
                let norm = parameters.gradientNorm()
                if norm > settings.clipNorm {
                    let scale = Float(settings.clipNorm / (norm + 1e-6))
                    for i in 0..<parameters.total { parameters.gradients[i] *= scale }
                }
            }
            step += 1
            adam.update(learningRate: settings.learningRate(step: step, of: totalSteps))
            report.trainingLoss.append(loss[0])
            stepSeconds.append(Date().timeIntervalSince(stepStarted))
            segmentsDone += members.count * k
            if settings.checkpointEvery > 0 && step % settings.checkpointEvery == 0 && step < totalSteps {
                try checkpoint(model, adam: adam, configText: file.text, step: step)
            }
            if Date().timeIntervalSince(lastReport) > 2 || step % stepsPerEpoch == 0 {
                let rate = Double(segmentsDone) / max(Date().timeIntervalSince(started), 1e-9)
                Diagnostics.info("train brainmae: epoch \(epoch + 1)/\(settings.epochs) step \(step)/\(totalSteps) loss \(format(loss[0])) (\(String(format: "%.1f", rate)) segments/s)")
                lastReport = Date()
            }
            if step % stepsPerEpoch == 0, let loss = heldOutLoss(model, data: data, settings: settings) {
                report.heldOutLoss.append(loss)
                Diagnostics.info("train brainmae: epoch \(epoch + 1) held-out loss \(format(loss))")
            }
        }
        try checkpoint(model, adam: adam, configText: file.text, step: step)
        report.steps = step - startStep
        report.medianStepSeconds = stepSeconds.sorted().dropFirst(stepSeconds.count / 2).first ?? 0
        report.segmentsPerSecond = Double(segmentsDone) / max(Date().timeIntervalSince(started), 1e-9)
        return report
    }

    /// Mean loss over the held-out windows with fixed masks (nil without held-out windows).
    func heldOutLoss(_ model: BrainMAETrainingModel<Float>, data: TrainingData, settings: TrainingSettings) -> Double? {
        guard !data.heldOutWindows.isEmpty else { return nil }
        var total = 0.0
        for (i, w) in data.heldOutWindows.enumerated() {
            var rng = TrainingRandom(seed: options.seed, stream: 3, index: UInt64(i))
            let mask = TrainingData.mask(batch: 1, segments: data.windowSegments, rois: model.config.rois, ratioMax: settings.maskRatioMax, random: &rng)
            total += model.loss(segments: data.windows[w], mask: mask, batch: 1, segmentCount: data.windowSegments)[0]
        }
        return total / Double(data.heldOutWindows.count)
    }

    /// Writes the state file, then the weights, then the config (each atomically).
    func checkpoint(_ model: BrainMAETrainingModel<Float>, adam: AdamW<Float>, configText: String, step: Int) throws {
        let p = model.parameters, c = model.config
        let metadata = [
            "step": "\(step)", "seed": "\(options.seed)", "format": "bioembed-brainmae-train/1", "config_sha256": SHA256.hex(Array(configText.utf8)),
        ]
        var state: [(name: String, shape: [Int], values: UnsafeBufferPointer<Float>)] = []
        for (i, name) in p.names.enumerated() {
            state.append(("adam.m." + name, p.shapes[i], UnsafeBufferPointer(start: adam.m + p.offsets[i], count: p.count(i))))
            state.append(("adam.v." + name, p.shapes[i], UnsafeBufferPointer(start: adam.v + p.offsets[i], count: p.count(i))))
        }
        try TrainingCheckpoint.writeSafeTensors(state, metadata: metadata, to: Self.statePath(forWeights: options.output))
        var weights: [(name: String, shape: [Int], values: UnsafeBufferPointer<Float>)] = p.names.enumerated().map { i, name in
            (name, p.shapes[i], UnsafeBufferPointer(start: p.values + p.offsets[i], count: p.count(i)))
        }
        try model.encoderPositions.withUnsafeBufferPointer { enc in
            try model.decoderPositions.withUnsafeBufferPointer { dec in
                weights.append(("encoder.pos_embed", [1, c.maxSegments + 1, c.encDim], enc))
                weights.append(("decoder.pos_embed", [1, c.maxSegments + 1, c.decDim], dec))
                try TrainingCheckpoint.writeSafeTensors(weights, metadata: metadata, to: options.output)
            }
        }
        try TrainingCheckpoint.writeAtomically(Data(configText.utf8), to: Self.configPath(forWeights: options.output))
    }

    private func format(_ x: Double) -> String { String(format: "%.5f", x) }
}
