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
    public static let startupNeeds: StartupNeeds = .blas
    public static let version = 1
    public static let summary = "BrainMAE-ref v0 embeddings of /fmri time series -> /embeddings/brainmae."
    public static let inputCollection = "fmri"
    public static let outputSchema = BioEmbedVersion.schema(of: "embeddings")

    public let configuration: EncoderConfiguration
    public init(_ configuration: EncoderConfiguration) { self.configuration = configuration }
    public var resumeFiles: [String] { [configuration.weights, configuration.config] }

    public func run(input: HDF5File, output: HDF5File, errors: ErrorLog, context: CollectionStageContext) throws -> CollectionStageResult {
        guard configuration.longChains == .fail else {
            throw NNError.invalidConfig(file: "--long-chains", key: "long_chains", expected: "fail (truncate and windows apply to encode_pst)", found: configuration.longChains.rawValue)
        }
        let pooling = try configuration.pooling(choices: ["cls", "mean"])
        let configFile = try ModelConfigFile(path: configuration.config)
        let checksum = EmbeddingWriter.WeightsChecksum(configuration.weights, known: context.reuse?.fileHashes[configuration.weights])
        let config = try BrainMAEConfig(configFile)
        let (store, precision) = try configuration.openWeights(stage: Self.name)
        let model = try EmbeddingWriter.timed("\(Self.name): weights") { () throws -> BrainMAEModel in try BrainMAEModel(config: config, weights: store) }
        let reader = try CollectionReader(try input.root.group(Self.inputCollection))
        let offsets = try reader.offsets("timeseries_offsets")
        let dataset = try reader.group.dataset("timeseries")
        let shape = dataset.shape
        guard shape.count == 2, shape[0] == Int(offsets.last ?? 0) else {
            throw NNError.invalidInput(file: input.path, expected: "/fmri/timeseries [\(offsets.last ?? 0), R]", found: "shape \(shape)")
        }
        let regions = shape[1]
        let n = config.rois, tau = config.segmentLength, dm = config.encDim
        func series(_ i: Int) throws -> [Double] { try dataset.readRows(Int(offsets[i])..<Int(offsets[i + 1])) }
        // Validation first (so the output's size is known); subjects are read again to encode.
        var kept: [Int] = []
        var failed = 0
        for i in 0..<reader.count {
            let frames = Int(offsets[i + 1] - offsets[i])
            do {
                guard regions == n else {
                    throw NNError.invalidItem(id: reader.ids[i], detail: "time series has \(regions) regions, the model expects n_rois = \(n)")
                }
                guard frames >= tau else {
                    throw NNError.invalidItem(id: reader.ids[i], detail: "time series has \(frames) frames, fewer than one segment (seg_len = \(tau))")
                }
                guard try series(i).allSatisfy({ $0.isFinite }) else {
                    throw NNError.invalidItem(id: reader.ids[i], detail: "time series contains NaN or infinite values")
                }
                kept.append(i)
            } catch let error as HDF5Error {
                throw error
            } catch {
                let text = ((error as Any) as? any BioEmbedError)?.description ?? "\(error)"
                try errors.append(id: reader.ids[i], stage: Self.name, category: .badInput, message: "\(input.path): \(text)")
                failed += 1
            }
        }
        let segmentCounts = (0..<reader.count).map { Int(offsets[$0 + 1] - offsets[$0]) / tau }
        let writer = try EmbeddingWriter(
            file: output, model: "brainmae", ids: reader.ids, kept: kept, width: dm,
            perTokenRows: configuration.perToken ? kept.map { segmentCounts[$0] } : nil,
            errors: errors, stage: Self.name, source: input.path)
        let todo = try writer.reuseEarlierRows(context.reuse)
        let forwardStart = Date()
        // Runs of similar length are batched (a run's length in segments is its length in encoder
        // tokens) and embedded side by side, one run per core: each run's GEMMs are mid-sized, and
        // the layer norms, GELU and graph attention between them would leave the other core idle.
        for batch in configuration.batches(lengths: segmentCounts, items: todo) {
            let runs = try batch.map { (i: Int) throws -> [Float] in
                let frames = Int(offsets[i + 1] - offsets[i])
                let rows = try series(i)
                var roiMajor = [Float](repeating: 0, count: n * frames)
                for t in 0..<frames { for r in 0..<n { roiMajor[r * frames + t] = Float(rows[t * n + r]) } }
                return model.segment(BrainMAEModel.zscore(roiMajor, rois: n, frames: frames), frames: frames)
            }
            let outputs = SideBySide.forward(runs, cost: { Double($0.count) }) { part in
                let workspace = Workspace()  // one per part: its buffers serve every run of the part
                return part.map { model.embedRun(segments: $0, workspace: workspace) }
            }
            for (i, out) in zip(batch, outputs) {
                var pooled = out.cls
                if pooling == "mean" {
                    out.tokens.withUnsafeBufferPointer { p in NNKernels.meanRows(p.baseAddress!, width: dm, rows: 0..<segmentCounts[i], into: &pooled) }
                }
                try writer.set(i, pooled: pooled, perToken: configuration.perToken ? out.tokens : nil)
            }
        }
        Diagnostics.debug("\(Self.name): forward \(String(format: "%.3f", Date().timeIntervalSince(forwardStart))) s")
        let sha = try checksum.value()
        try writer.finish(model: "brainmae", config: configFile.text, weightsSHA256: sha, pooling: pooling, precision: precision)
        return CollectionStageResult(
            done: writer.done, failed: failed + writer.failed, cached: writer.cached,
            inputs: [Provenance.Input(path: configuration.weights, sha256: sha)])
    }
}
