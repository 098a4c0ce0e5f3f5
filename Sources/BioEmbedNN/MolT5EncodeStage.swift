import BioEmbedCore
import BioEmbedHDF5
import Foundation

/// `encode_molt5`: 3D-MolT5 encoder embeddings of `/molecules` → `/embeddings/molt5`.
///
/// Inputs are `input_ids` + `fp_tokens` (`<bom> SELFIES <eom> </s>`). The embedding coefficients
/// are decided per molecule (the reference decides per padded batch, which makes a molecule's
/// output depend on its batch mates; per molecule equals the reference at batch size 1).
/// `pooled` = mean over the SELFIES positions strictly between `<bom>` and `<eom>`
/// (`pooling: selfies`, the default) or over all non-pad positions (`nonpad`); `per_token` = every
/// position. Ids outside the vocabulary or fp tokens outside `-1..<fp_bits` fail the molecule.
public struct MolT5EncodeStage: CollectionStage {
    public static let name = "encode_molt5"
    public static let startupNeeds: StartupNeeds = .blas
    public static let version = 1
    public static let summary = "3D-MolT5 encoder embeddings of /molecules -> /embeddings/molt5."
    public static let inputCollection = "molecules"
    public static let outputSchema = BioEmbedVersion.schema(of: "embeddings")

    public let configuration: EncoderConfiguration
    public init(_ configuration: EncoderConfiguration) { self.configuration = configuration }
    public var resumeFiles: [String] { [configuration.weights, configuration.config] }

    public func run(input: HDF5File, output: HDF5File, errors: ErrorLog, context: CollectionStageContext) throws -> CollectionStageResult {
        guard configuration.longChains == .fail else {
            throw NNError.invalidConfig(file: "--long-chains", key: "long_chains", expected: "fail (truncate and windows apply to encode_pst)", found: configuration.longChains.rawValue)
        }
        let pooling = try configuration.pooling(choices: ["selfies", "nonpad"])
        let configFile = try ModelConfigFile(path: configuration.config)
        let checksum = EmbeddingWriter.WeightsChecksum(configuration.weights, known: context.reuse?.fileHashes[configuration.weights])
        let config = try MolT5Config(configFile)
        let (store, precision) = try configuration.openWeights(stage: Self.name, keptInFP32: MolT5Encoder.keptInFP32)
        let model = try EmbeddingWriter.timed("\(Self.name): weights") { () throws -> MolT5Encoder in try MolT5Encoder(config: config, weights: store) }
        let reader = try CollectionReader(try input.root.group(Self.inputCollection))
        let offsets = try reader.offsets("token_offsets")
        let idSet = try reader.group.dataset("input_ids"), fpSet = try reader.group.dataset("fp_tokens")
        let total = Int(offsets.last ?? 0)
        guard idSet.shape == [total], fpSet.shape == [total, 4] else {
            throw NNError.invalidInput(
                file: input.path, expected: "/molecules/input_ids [\(total)] and fp_tokens [\(total), 4]",
                found: "input_ids \(idSet.shape), fp_tokens \(fpSet.shape)")
        }
        func sequence(_ i: Int) throws -> MolT5Encoder.Sequence {
            let rows = Int(offsets[i])..<Int(offsets[i + 1])
            return MolT5Encoder.Sequence(ids: try idSet.readRows(rows), fp: try fpSet.readRows(rows))
        }
        // Validation first (so the output's size is known); molecules are read again, batch by batch.
        var poolRanges: [Range<Int>] = Array(repeating: 0..<0, count: reader.count)
        var kept: [Int] = []
        var lengths = [Int](repeating: 0, count: reader.count)
        var failed = 0
        for i in 0..<reader.count {
            do {
                poolRanges[i] = try Self.validate(try sequence(i), id: reader.ids[i], config: config, pooling: pooling)
                kept.append(i)
                lengths[i] = Int(offsets[i + 1] - offsets[i])
            } catch let error as HDF5Error {
                throw error
            } catch {
                let text = ((error as Any) as? any BioEmbedError)?.description ?? "\(error)"
                try errors.append(id: reader.ids[i], stage: Self.name, category: .badInput, message: "\(input.path): \(text)")
                failed += 1
            }
        }
        let d = config.dModel
        let writer = try EmbeddingWriter(
            file: output, model: "molt5", ids: reader.ids, kept: kept, width: d,
            perTokenRows: configuration.perToken ? kept.map { lengths[$0] } : nil,
            errors: errors, stage: Self.name, source: input.path)
        let todo = try writer.reuseEarlierRows(context.reuse)
        let forwardStart = Date()
        for batch in configuration.batches(lengths: lengths, items: todo) {
            let outputs = SideBySide.forward(try batch.map(sequence), cost: { model.cost(tokens: $0.ids.count) }) { model.forward($0, coefficientsPerSequence: true) }
            for (index, out) in zip(batch, outputs) {
                var mean = [Float](repeating: 0, count: d)
                out.lastHiddenState.withUnsafeBufferPointer { h in
                    NNKernels.meanRows(h.baseAddress!, width: d, rows: poolRanges[index], into: &mean)
                }
                try writer.set(index, pooled: mean, perToken: configuration.perToken ? out.lastHiddenState : nil)
            }
        }
        Diagnostics.debug("\(Self.name): forward \(String(format: "%.3f", Date().timeIntervalSince(forwardStart))) s")
        let sha = try checksum.value()
        try writer.finish(model: "molt5", config: configFile.text, weightsSHA256: sha, pooling: pooling, precision: precision)
        return CollectionStageResult(
            done: writer.done, failed: failed + writer.failed, cached: writer.cached,
            inputs: [Provenance.Input(path: configuration.weights, sha256: sha)])
    }

    /// Checks ids and fp tokens; returns the rows to pool over.
    public static func validate(_ sequence: MolT5Encoder.Sequence, id: String, config: MolT5Config, pooling: String) throws(NNError) -> Range<Int> {
        let ids = sequence.ids
        guard !ids.isEmpty else { throw NNError.invalidItem(id: id, detail: "molecule has no tokens") }
        guard ids.count <= config.maxLength else {
            throw NNError.invalidItem(id: id, detail: "molecule has \(ids.count) tokens, more than max_length_tokens = \(config.maxLength)")
        }
        for (p, token) in ids.enumerated() where token < 0 || Int(token) >= config.vocabSize {
            throw NNError.invalidItem(id: id, detail: "token id \(token) at position \(p) is outside the vocabulary 0..<\(config.vocabSize)")
        }
        for (p, token) in sequence.fp.enumerated() where token < -1 || Int(token) >= config.fpBits {
            throw NNError.invalidItem(id: id, detail: "3D token \(token) at position \(p / 4) (level \(p % 4)) is outside -1..<\(config.fpBits)")
        }
        if pooling == "nonpad" {
            let rows = ids.indices.filter { Int(ids[$0]) != config.padID }
            return (rows.first ?? 0)..<((rows.last ?? -1) + 1)
        }
        guard let bom = ids.firstIndex(of: Int32(config.bomID)), let eom = ids[(bom + 1)...].firstIndex(of: Int32(config.eomID)), eom > bom + 1 else {
            throw NNError.invalidItem(
                id: id, detail: "expected <bom> (\(config.bomID)) SELFIES tokens <eom> (\(config.eomID)) for selfies pooling; check bom_id/eom_id in the config")
        }
        return (bom + 1)..<eom
    }
}
