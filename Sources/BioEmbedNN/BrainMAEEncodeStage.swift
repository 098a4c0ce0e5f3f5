import BioEmbedCore
import BioEmbedHDF5
import Foundation

/// `encode_brainmae`: BrainMAE-ref v0 embeddings of the `/fmri` time series → `/embeddings/brainmae`.
///
/// Per subject: the `[T, R]` series is transposed to ROI-major, z-scored per ROI over all T
/// frames, cut into K = ⌊T/τ⌋ segments (trailing frames dropped). Series longer than
/// `max_segments` segments are encoded as consecutive windows of at most `max_segments` segments.
/// `pooled` = the [CLS] embedding (`pooling: cls`, the default; averaged over windows when there
/// are several) or the mean of all segment tokens (`mean`); `per_token` = the K segment tokens.
/// A subject whose region count differs from `n_rois` or with fewer than τ frames fails.
public struct BrainMAEEncodeStage: CollectionStage {
    public static let name = "encode_brainmae"
    public static let version = 1
    public static let summary = "BrainMAE-ref v0 embeddings of /fmri time series -> /embeddings/brainmae."
    public static let inputCollection = "fmri"
    public static let outputSchema = "bioembed/embeddings/1"

    public let configuration: EncoderConfiguration
    public init(_ configuration: EncoderConfiguration) { self.configuration = configuration }

    public func run(input: HDF5File, output: HDF5File, errors: ErrorLog, context: CollectionStageContext) throws -> CollectionStageResult {
        let pooling = try configuration.pooling(choices: ["cls", "mean"])
        let configFile = try ModelConfigFile(path: configuration.config)
        let checksum = EmbeddingWriter.WeightsChecksum(configuration.weights)
        let config = try BrainMAEConfig(configFile)
        let model = try EmbeddingWriter.timed("\(Self.name): weights") { () throws -> BrainMAEModel in try BrainMAEModel(config: config, weights: try WeightStore(path: configuration.weights)) }
        let reader = try CollectionReader(try input.root.group(Self.inputCollection))
        let offsets = try reader.offsets("timeseries_offsets")
        let dataset = try reader.group.dataset("timeseries")
        let shape = dataset.shape
        guard shape.count == 2, shape[0] == Int(offsets.last ?? 0) else {
            throw NNError.invalidInput(file: input.path, expected: "/fmri/timeseries [\(offsets.last ?? 0), R]", found: "shape \(shape)")
        }
        let regions = shape[1]
        let n = config.rois, tau = config.segmentLength, dm = config.encDim
        let writer = EmbeddingWriter(ids: reader.ids, width: dm)
        var failed = 0
        let forwardStart = Date()
        for i in 0..<reader.count {
            let frames = Int(offsets[i + 1] - offsets[i])
            do {
                guard regions == n else {
                    throw NNError.invalidItem(id: reader.ids[i], detail: "time series has \(regions) regions, the model expects n_rois = \(n)")
                }
                guard frames >= tau else {
                    throw NNError.invalidItem(id: reader.ids[i], detail: "time series has \(frames) frames, fewer than one segment (seg_len = \(tau))")
                }
                let rows: [Double] = try dataset.readRows(Int(offsets[i])..<Int(offsets[i + 1]))
                guard rows.allSatisfy({ $0.isFinite }) else {
                    throw NNError.invalidItem(id: reader.ids[i], detail: "time series contains NaN or infinite values")
                }
                var roiMajor = [Float](repeating: 0, count: n * frames)
                for t in 0..<frames { for r in 0..<n { roiMajor[r * frames + t] = Float(rows[t * n + r]) } }
                let segments = model.segment(BrainMAEModel.zscore(roiMajor, rois: n, frames: frames), frames: frames)
                let k = frames / tau
                var cls = [Float](repeating: 0, count: dm)
                var tokens: [Float] = []
                var windows = 0
                var first = 0
                while first < k {
                    let count = min(config.maxSegments, k - first)
                    let out = model.encode(
                        segments: Array(segments[(first * n * tau)..<((first + count) * n * tau)]), batch: 1, segmentCount: count)
                    for j in 0..<dm { cls[j] += out.tokens[j] }
                    tokens += out.tokens[dm...]
                    windows += 1
                    first += count
                }
                var pooled = cls.map { $0 / Float(windows) }
                if pooling == "mean" {
                    tokens.withUnsafeBufferPointer { p in NNKernels.meanRows(p.baseAddress!, width: dm, rows: 0..<k, into: &pooled) }
                }
                writer.set(i, pooled: pooled, perToken: configuration.perToken ? tokens : nil)
            } catch {
                let text = ((error as Any) as? any BioEmbedError)?.description ?? "\(error)"
                try errors.append(id: reader.ids[i], stage: Self.name, category: .badInput, message: "\(input.path): \(text)")
                failed += 1
            }
        }
        Diagnostics.debug("\(Self.name): forward \(String(format: "%.3f", Date().timeIntervalSince(forwardStart))) s")
        let sha = try checksum.value()
        try writer.write(
            to: output, model: "brainmae", config: configFile.text, weightsSHA256: sha, pooling: pooling,
            includePerToken: configuration.perToken)
        return CollectionStageResult(
            done: writer.done, failed: failed,
            inputs: [Provenance.Input(path: configuration.weights, sha256: sha)])
    }
}
