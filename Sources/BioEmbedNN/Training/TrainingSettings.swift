/// Training hyper-parameters of `bioembed train brainmae`, read from optional keys of the model's
/// `config.json` (defaults in brackets): `batch_size` [32], `lr` [1e-3] (peak), `weight_decay`
/// [0.05], `adam_beta1` [0.9], `adam_beta2` [0.95], `adam_eps` [1e-8], `schedule` [`cosine`:
/// linear warm-up over `warmup_fraction` [0.05] of the steps, then half-cosine to 0; `constant`],
/// `clip_norm` [0 = off], `holdout_fraction` [0.2] (of subjects), `window_segments`
/// [`max_segments`] (segments per training window), `mask_ratio_max` [0.8], `checkpoint_every`
/// [0 = only at the end] (steps), `epochs` [10].
public struct TrainingSettings: Sendable, Equatable {
    public var batchSize = 32
    public var learningRate = 1e-3
    public var adam = AdamW<Float>.Settings()
    public var schedule = "cosine"
    public var warmupFraction = 0.05
    public var clipNorm = 0.0
    public var holdoutFraction = 0.2
    public var windowSegments: Int
    public var maskRatioMax = 0.8
    public var checkpointEvery = 0
    public var epochs = 10

    public init(_ file: ModelConfigFile, model: BrainMAEConfig) throws(NNError) {
        batchSize = try file.positiveInt("batch_size", default: 32)
        learningRate = try file.double("lr", default: 1e-3, within: 0...10)
        adam = .init(
            beta1: try file.double("adam_beta1", default: 0.9, within: 0...0.999999), beta2: try file.double("adam_beta2", default: 0.95, within: 0...0.999999),
            eps: try file.double("adam_eps", default: 1e-8, within: ModelConfigFile.epsilonRange), weightDecay: try file.double("weight_decay", default: 0.05, within: 0...10))
        schedule = try file.string("schedule", default: "cosine")
        guard ["cosine", "constant"].contains(schedule) else {
            throw NNError.invalidConfig(file: file.path, key: "schedule", expected: "cosine or constant", found: schedule)
        }
        warmupFraction = try file.double("warmup_fraction", default: 0.05, within: 0...1)
        clipNorm = try file.double("clip_norm", default: 0, within: 0...1e12)
        holdoutFraction = try file.double("holdout_fraction", default: 0.2, within: 0...1)
        guard holdoutFraction >= 0 && holdoutFraction < 1 else {
            throw NNError.invalidConfig(file: file.path, key: "holdout_fraction", expected: "a number in [0, 1)", found: "\(holdoutFraction)")
        }
        windowSegments = min(try file.positiveInt("window_segments", default: model.maxSegments), model.maxSegments)
        maskRatioMax = try file.double("mask_ratio_max", default: 0.8, within: 0...1)
        checkpointEvery = try file.int("checkpoint_every", default: 0, within: 0...ModelConfigFile.largestSize)
        epochs = try file.positiveInt("epochs", default: 10)
    }

    /// Learning rate of step t (1-based) of `total`.
    public func learningRate(step t: Int, of total: Int) -> Double {
        guard schedule == "cosine" else { return learningRate }
        let warmup = Int((warmupFraction * Double(total)).rounded(.up))
        if t <= warmup { return learningRate * Double(t) / Double(max(warmup, 1)) }
        let progress = Double(t - warmup) / Double(max(total - warmup, 1))
        return learningRate * 0.5 * (1 + cos(Double.pi * progress))
    }
}

import Foundation
