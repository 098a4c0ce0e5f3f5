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
    public static let version = 1
    public static let summary = "3D-MolT5 encoder embeddings of /molecules -> /embeddings/molt5."
    public static let inputCollection = "molecules"
    public static let outputSchema = "bioembed/embeddings/1"

    public let configuration: EncoderConfiguration
    public init(_ configuration: EncoderConfiguration) { self.configuration = configuration }

    public func run(input: HDF5File, output: HDF5File, errors: ErrorLog, context: CollectionStageContext) throws -> CollectionStageResult {
        let pooling = try configuration.pooling(choices: ["selfies", "nonpad"])
        let configFile = try ModelConfigFile(path: configuration.config)
        let checksum = EmbeddingWriter.WeightsChecksum(configuration.weights)
        let config = try MolT5Config(configFile)
        let model = try EmbeddingWriter.timed("\(Self.name): weights") { () throws -> MolT5Encoder in try MolT5Encoder(config: config, weights: try WeightStore(path: configuration.weights)) }
        let reader = try CollectionReader(try input.root.group(Self.inputCollection))
        let offsets = try reader.offsets("token_offsets")
        let ids: [Int32] = try reader.group.dataset("input_ids").read()
        let fp: [Int32] = try reader.group.dataset("fp_tokens").read()
        guard ids.count == Int(offsets.last ?? 0), fp.count == 4 * ids.count else {
            throw NNError.invalidInput(
                file: input.path, expected: "/molecules/input_ids [\(offsets.last ?? 0)] and fp_tokens [\(offsets.last ?? 0), 4]",
                found: "input_ids [\(ids.count)], fp_tokens with \(fp.count) values")
        }
        var inputs: [MolT5Encoder.Sequence?] = Array(repeating: nil, count: reader.count)
        var poolRanges: [Range<Int>] = Array(repeating: 0..<0, count: reader.count)
        var failed = 0
        for i in 0..<reader.count {
            let start = Int(offsets[i]), end = Int(offsets[i + 1])
            let sequence = MolT5Encoder.Sequence(ids: Array(ids[start..<end]), fp: Array(fp[(4 * start)..<(4 * end)]))
            do {
                poolRanges[i] = try Self.validate(sequence, id: reader.ids[i], config: config, pooling: pooling)
                inputs[i] = sequence
            } catch {
                let text = ((error as Any) as? any BioEmbedError)?.description ?? "\(error)"
                try errors.append(id: reader.ids[i], stage: Self.name, category: .badInput, message: "\(input.path): \(text)")
                failed += 1
            }
        }
        let d = config.dModel
        let writer = EmbeddingWriter(ids: reader.ids, width: d)
        let valid = inputs.indices.filter { inputs[$0] != nil }
        let lengths = inputs.map { $0?.ids.count ?? 0 }
        let forwardStart = Date()
        for batch in configuration.batches(lengths: lengths, items: valid) {
            let outputs = model.forward(batch.map { inputs[$0]! }, coefficientsPerSequence: true)
            for (index, out) in zip(batch, outputs) {
                var mean = [Float](repeating: 0, count: d)
                out.lastHiddenState.withUnsafeBufferPointer { h in
                    NNKernels.meanRows(h.baseAddress!, width: d, rows: poolRanges[index], into: &mean)
                }
                writer.set(index, pooled: mean, perToken: configuration.perToken ? out.lastHiddenState : nil)
            }
        }
        Diagnostics.debug("\(Self.name): forward \(String(format: "%.3f", Date().timeIntervalSince(forwardStart))) s")
        let sha = try checksum.value()
        try writer.write(
            to: output, model: "molt5", config: configFile.text, weightsSHA256: sha, pooling: pooling,
            includePerToken: configuration.perToken)
        return CollectionStageResult(
            done: writer.done, failed: failed,
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
