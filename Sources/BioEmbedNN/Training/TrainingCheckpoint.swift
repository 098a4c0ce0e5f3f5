import Foundation

/// Loading and writing BrainMAE training state as safetensors.
///
/// Weights: `<output>.safetensors` holds every trainable tensor plus the two `pos_embed` buffers
/// as F32, readable by `BrainMAEModel` (`bioembed encode brainmae`); `config.json` next to it.
/// Optimizer state: `<output>.state.safetensors` holds `adam.m.<name>` / `adam.v.<name>` and
/// metadata (`step`, `epoch`, `seed`, …). Each file is written to a temporary name in the same
/// folder and renamed, so a crash never leaves a half-written checkpoint.
public enum TrainingCheckpoint {
    /// Loads parameters `spec` (shapes checked, float32 widened to S) and the positional buffers
    /// (nil when absent) from a safetensors file.
    public static func loadParameters<S: TrainingScalar>(
        config: BrainMAEConfig, path: String
    ) throws(NNError) -> (parameters: ParameterSet<S>, encoderPositions: [S]?, decoderPositions: [S]?) {
        let store = try WeightStore(path: path)
        let spec = BrainMAETrainingModel<S>.parameterSpec(config)
        let set = ParameterSet<S>(spec)
        for (i, entry) in spec.enumerated() {
            let tensor = try store.take(entry.name, entry.shape)
            for (j, value) in tensor.data.enumerated() { set.values[set.offsets[i] + j] = S(value) }
        }
        let enc = try store.takeIfPresent("encoder.pos_embed", [1, config.maxSegments + 1, config.encDim])?.data.map { S($0) }
        let dec = try store.takeIfPresent("decoder.pos_embed", [1, config.maxSegments + 1, config.decDim])?.data.map { S($0) }
        try store.finish()
        return (set, enc, dec)
    }

    /// PyTorch-default initialisation: Linear weights and biases ~ U(±1/√fan_in), LayerNorm γ = 1,
    /// β = 0, `tse.roi_embed` and `encoder.cls_token` ~ N(0, 0.02²); deterministic in `seed`.
    public static func initialParameters<S: TrainingScalar>(config: BrainMAEConfig, seed: UInt64) -> ParameterSet<S> {
        let spec = BrainMAETrainingModel<S>.parameterSpec(config)
        let set = ParameterSet<S>(spec)
        var rng = TrainingRandom(seed: seed ^ 0x5EED_1417)
        var fanIn: [String: Int] = [:]
        for entry in spec where entry.shape.count == 2 && entry.name.hasSuffix(".weight") {
            fanIn[String(entry.name.dropLast(".weight".count))] = entry.shape[1]
        }
        for (i, entry) in spec.enumerated() {
            let base = set.values + set.offsets[i], count = set.count(i)
            let prefix = String(entry.name[..<(entry.name.lastIndex(of: ".") ?? entry.name.endIndex)])
            if entry.name == "tse.roi_embed" || entry.name == "encoder.cls_token" {
                for j in 0..<count { base[j] = S(0.02 * rng.normal()) }
            } else if let fan = fanIn[prefix] {
                let bound = 1 / Double(fan).squareRoot()
                for j in 0..<count { base[j] = S((2 * rng.uniform() - 1) * bound) }
            } else {
                let one = entry.name.hasSuffix(".weight")
                for j in 0..<count { base[j] = one ? 1 : 0 }
            }
        }
        return set
    }

    /// Writes `tensors` (name, shape, values) as an F32 safetensors file atomically.
    public static func writeSafeTensors(
        _ tensors: [(name: String, shape: [Int], values: UnsafeBufferPointer<Float>)], metadata: [String: String], to path: String
    ) throws(NNError) {
        let folder = (path as NSString).deletingLastPathComponent
        if !folder.isEmpty { try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true) }
        var header: [String: Any] = [:]
        var offset = 0
        for t in tensors {
            header[t.name] = ["dtype": "F32", "shape": t.shape, "data_offsets": [offset, offset + 4 * t.values.count]] as [String: Any]
            offset += 4 * t.values.count
        }
        if !metadata.isEmpty { header["__metadata__"] = metadata }
        guard var json = try? JSONSerialization.data(withJSONObject: header, options: [.sortedKeys]) else {
            throw NNError.invalidWeights(file: path, detail: "cannot encode the header")
        }
        while (8 + json.count) % 8 != 0 { json.append(0x20) }
        var data = Data(capacity: 8 + json.count + offset)
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { data.append(contentsOf: $0) }
        data.append(json)
        for t in tensors {
            // safetensors is little-endian, like every platform BioEmbed builds for.
            if let base = t.values.baseAddress { data.append(UnsafeBufferPointer(start: base, count: t.values.count)) }
        }
        try writeAtomically(data, to: path)
    }

    /// Writes `data` to a temporary file next to `path`, then renames it over `path`.
    public static func writeAtomically(_ data: Data, to path: String) throws(NNError) {
        let url = URL(fileURLWithPath: path)
        let temporary = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).tmp-\(getpid())").path
        do {
            try data.write(to: URL(fileURLWithPath: temporary))
            guard rename(temporary, path) == 0 else {
                throw NNError.invalidWeights(file: path, detail: "cannot rename \(temporary): \(String(cString: strerror(errno)))")
            }
        } catch {
            try? FileManager.default.removeItem(atPath: temporary)
            throw NNError.invalidWeights(file: path, detail: "cannot write: \(error.localizedDescription)")
        }
    }
}
