import BioEmbedCore
import BioEmbedHDF5
import Foundation

/// Collects one encoder's per-item results and writes `/embeddings/<model>` (contract.md):
/// `ids` (source order, failed items absent), `pooled` `[N, D]` f32, optional `per_token`
/// `[ΣL, D]` + `per_token_offsets`, attributes `model`, `config`, `weights_sha256`, `pooling`.
/// Results may arrive in any order (batches are sorted by length); memory O(Σ rows · D).
final class EmbeddingWriter {
    /// SHA-256 of a file (the weights). libcrypto hashes at over 1 GB/s, so this runs in line:
    /// a background thread raced libcrypto's exit-time cleanup when a command failed early.
    final class WeightsChecksum: Sendable {
        private let result: Result<String, any Error>

        init(_ path: String) {
            let start = Date()
            result = Result { try FileDigest.sha256(ofFile: path) }
            Diagnostics.debug("sha256 of \(path): \(String(format: "%.2f", Date().timeIntervalSince(start))) s")
        }

        func value() throws -> String { try result.get() }
    }

    /// Runs `body`, printing its duration with `--verbose`.
    static func timed<T>(_ label: String, _ body: () throws -> T) rethrows -> T {
        let start = Date()
        let value = try body()
        Diagnostics.debug("\(label): \(String(format: "%.3f", Date().timeIntervalSince(start))) s")
        return value
    }

    let ids: [String]
    let width: Int
    private var pooled: [[Float]?]
    private var perToken: [[Float]?]

    init(ids: [String], width: Int) {
        self.ids = ids
        self.width = width
        pooled = Array(repeating: nil, count: ids.count)
        perToken = Array(repeating: nil, count: ids.count)
    }

    func set(_ index: Int, pooled vector: [Float], perToken rows: [Float]?) {
        pooled[index] = vector
        perToken[index] = rows
    }

    var done: Int { pooled.lazy.filter { $0 != nil }.count }

    func write(to file: HDF5File, model: String, config: String, weightsSHA256: String, pooling: String, includePerToken: Bool) throws {
        let parent = try file.root.openOrCreateGroup("embeddings")
        if parent.contains(model) { try parent.remove(model) }
        let group = try parent.createGroup(model)
        let kept = ids.indices.filter { pooled[$0] != nil }
        try group.writeStrings("ids", kept.map { ids[$0] })
        try group.write("pooled", kept.flatMap { pooled[$0]! }, shape: [kept.count, width])
        if includePerToken {
            var offsets: [Int64] = [0]
            var rows: [Float] = []
            for i in kept {
                let values = perToken[i] ?? []
                rows += values
                offsets.append(offsets.last! + Int64(values.count / width))
            }
            try group.write("per_token_offsets", offsets)
            try group.write("per_token", rows, shape: [Int(offsets.last!), width])
        }
        try group.setAttribute("model", .string(model))
        try group.setAttribute("config", .string(config))
        try group.setAttribute("weights_sha256", .string(weightsSHA256))
        try group.setAttribute("pooling", .string(pooling))
    }
}
