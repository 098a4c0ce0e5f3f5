import BioEmbedCore
import BioEmbedHDF5
import BioEmbedLinalg
import Foundation

/// Writes one encoder's `/embeddings/<model>` (docs/layout.md) while the encoder runs: `ids` (source
/// order, failed items absent), `pooled` `[N, D]` f32, optional `per_token` `[ΣL, D]` +
/// `per_token_offsets`, attributes `model`, `config`, `weights_sha256`, `pooling`.
///
/// The items that will be written (`kept`) and their per-token row counts are known before the
/// encoder runs (validation comes first), so every dataset is created at its final size and each
/// result goes straight into its rows, in any order (batches are sorted by length): memory does not
/// grow with the number of items.
final class EmbeddingWriter {
    /// SHA-256 of a file (the weights). libcrypto hashes at over 1 GB/s, so this runs in line:
    /// a background thread raced libcrypto's exit-time cleanup when a command failed early.
    final class WeightsChecksum: Sendable {
        private let result: Result<String, any Error>

        /// - Parameter known: the checksum when the engine already read it (`CollectionReuse.fileHashes`).
        init(_ path: String, known: String? = nil) {
            if let known {
                result = .success(known)
                return
            }
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

    let width: Int
    private let model: String
    private let ids: [String]
    private let kept: [Int]
    private let group: HDF5Group
    private let pooledSet: HDF5Dataset
    private let perTokenSet: HDF5Dataset?
    private let position: [Int: Int]
    private let tokenOffsets: [Int64]
    private(set) var done = 0
    /// Items whose rows were copied from an earlier run (`reuseEarlierRows`).
    private(set) var cached = 0
    /// Items whose output held NaN or an infinity: listed in `/errors` and dropped by `finish`.
    private(set) var failed = 0
    private var failedPositions: [Int] = []
    private let errors: ErrorLog
    private let stage: String
    private let source: String

    /// Replaces `/embeddings/<model>` of `file` with datasets for the source items `kept` (indices
    /// into `ids`, ascending); `perTokenRows[k]` rows of per-token output for `kept[k]`, or nil
    /// for pooled vectors only.
    init(file: HDF5File, model: String, ids: [String], kept: [Int], width: Int, perTokenRows: [Int]?,
         errors: ErrorLog, stage: String, source: String) throws {
        self.errors = errors
        self.stage = stage
        self.source = source
        self.width = width
        self.model = model
        self.ids = ids
        self.kept = kept
        let parent = try file.root.openOrCreateGroup("embeddings")
        if parent.contains(model) { try parent.remove(model) }
        group = try parent.createGroup(model)
        try group.writeStrings("ids", kept.map { ids[$0] })
        pooledSet = try group.createDataset("pooled", type: .float32, shape: [kept.count, width])
        var offsets: [Int64] = [0]
        if let perTokenRows {
            for rows in perTokenRows { offsets.append(offsets.last! + Int64(rows)) }
            _ = try group.write("per_token_offsets", offsets)
            perTokenSet = try group.createDataset("per_token", type: .float32, shape: [Int(offsets.last!), width])
        } else {
            perTokenSet = nil
        }
        tokenOffsets = offsets
        position = Dictionary(uniqueKeysWithValues: kept.enumerated().map { ($1, $0) })
    }

    /// Writes the results of source item `index` (one of `kept`).
    /// Writes the results of source item `index` (one of `kept`). Output with NaN or an infinity
    /// (broken weights, a degenerate config) is an item error, never an embedding.
    func set(_ index: Int, pooled vector: [Float], perToken rows: [Float]?) throws {
        guard let k = position[index] else { return }
        guard vector.allSatisfy(\.isFinite), rows?.allSatisfy(\.isFinite) ?? true else {
            try errors.append(
                id: ids[index], stage: stage, category: .crash,
                message: "\(source): the model's output for this item holds NaN or infinite values (check the weights and the config's epsilon values)")
            failedPositions.append(k)
            failed += 1
            return
        }
        try write(k, pooled: vector, perToken: rows)
        done += 1
    }

    private func write(_ k: Int, pooled vector: [Float], perToken rows: [Float]?) throws {
        try pooledSet.writeRows(k..<(k + 1), vector)
        if let perTokenSet, let rows {
            let range = Int(tokenOffsets[k])..<Int(tokenOffsets[k + 1])
            try perTokenSet.writeRows(range, rows)
        }
    }

    /// Copies the rows an earlier run wrote for the kept items whose resume key is unchanged
    /// (`reuse`, from the same group of the earlier output) and returns the kept items still to
    /// compute, in order. An earlier output of another shape (width, per-token rows) is not used.
    func reuseEarlierRows(_ reuse: CollectionReuse?) throws -> [Int] {
        guard let reuse, let previous = reuse.previous,
              let old = try? previous.root.group("embeddings").group(model),
              let oldIDs = try? old.dataset("ids").readStrings(),
              let oldPooled = try? old.dataset("pooled"), oldPooled.shape == [oldIDs.count, width] else { return kept }
        var oldTokens: (offsets: [Int64], rows: HDF5Dataset)?
        if perTokenSet != nil {
            guard let offsets: [Int64] = try? old.dataset("per_token_offsets").read(), offsets.count == oldIDs.count + 1,
                  let rows = try? old.dataset("per_token"), rows.shape == [Int(offsets.last!), width] else { return kept }
            oldTokens = (offsets, rows)
        }
        var oldRow: [String: Int] = [:]
        for (row, id) in oldIDs.enumerated() where oldRow[id] == nil { oldRow[id] = row }
        var todo: [Int] = []
        for (k, index) in kept.enumerated() {
            guard reuse.canReuse(ids[index]), let row = oldRow[ids[index]] else {
                todo.append(index)
                continue
            }
            var tokenRows: [Float]?
            if let oldTokens {
                let range = Int(oldTokens.offsets[row])..<Int(oldTokens.offsets[row + 1])
                guard range.count == Int(tokenOffsets[k + 1] - tokenOffsets[k]) else {
                    todo.append(index)
                    continue
                }
                tokenRows = try oldTokens.rows.readRows(range)
            }
            try write(k, pooled: try oldPooled.readRows(row..<(row + 1)), perToken: tokenRows)
            cached += 1
        }
        return todo
    }

    /// The attributes, once every item is written; the rows of failed items are removed first.
    func finish(model: String, config: String, weightsSHA256: String, pooling: String, precision: String, longChains: String? = nil) throws {
        if !failedPositions.isEmpty { try dropFailedRows() }
        try group.setAttribute("precision", .string(precision))
        if let longChains { try group.setAttribute("long_chains", .string(longChains)) }
        try group.setAttribute("model", .string(model))
        try group.setAttribute("config", .string(config))
        try group.setAttribute("weights_sha256", .string(weightsSHA256))
        try group.setAttribute("pooling", .string(pooling))
    }
}

/// Runs an encoder's `forward` over a batch split into one contiguous part per core, side by side
/// with single-threaded BLAS (`BLASRuntime.parallel`): the sequences of a batch are independent,
/// and mid-sized per-sequence GEMMs scale better across sequences than across BLAS threads. Parts
/// are balanced by the caller's cost estimate; when one sequence outweighs an even share (a long
/// chain among short ones), the whole packed batch runs once on all BLAS threads instead, so no
/// core idles while it runs. Outputs come back in batch order.
enum SideBySide {
    /// The most a part may cost above an even share before the batch runs whole, on all threads.
    static let imbalanceLimit = 1.25

    static func forward<Input: Sendable, Output: Sendable>(
        _ batch: [Input], cost: (Input) -> Double, _ body: @Sendable ([Input]) -> [Output]
    ) -> [Output] {
        let threads = BLASRuntime.parallelChunks(batch.count)
        guard threads > 1 else { return body(batch) }
        let costs = batch.map(cost)
        let parts = balancedParts(costs, count: threads)
        let share = costs.reduce(0, +) / Double(threads)
        let largest = parts.map { costs[$0].reduce(0, +) }.max() ?? 0
        guard parts.count == threads, largest <= imbalanceLimit * share else { return body(batch) }
        let results = ResultSlots<[Output]>(count: parts.count)
        BLASRuntime.parallel(parts: parts) { range, part in results.set(part, body(Array(batch[range]))) }
        return results.values.flatMap { $0 }
    }

    /// Contiguous ranges of `costs` whose sums come closest to equal shares (a boundary where the
    /// running sum crosses each multiple of the share). O(items).
    static func balancedParts(_ costs: [Double], count: Int) -> [Range<Int>] {
        let total = costs.reduce(0, +)
        var parts: [Range<Int>] = []
        var start = 0, prefix = 0.0
        for (i, c) in costs.enumerated() where parts.count < count - 1 {
            let before = prefix
            prefix += c
            let target = total * Double(parts.count + 1) / Double(count)
            guard prefix >= target else { continue }
            // end the part before or after this item, whichever lands nearer the share
            let end = target - before < prefix - target && i > start ? i : i + 1
            guard end < costs.count else { continue }
            parts.append(start..<end)
            start = end
        }
        parts.append(start..<costs.count)
        return parts.filter { !$0.isEmpty }
    }
}

extension EmbeddingWriter {
    /// Rewrites the group without the rows of failed items (rare: only when an output was not
    /// finite), item by item, so memory stays one item's rows.
    fileprivate func dropFailedRows() throws {
        let failed = Set(failedPositions)
        let keep = (0..<kept.count).filter { !failed.contains($0) }
        let suffix = ".compacting"
        try group.writeStrings("ids" + suffix, keep.map { ids[kept[$0]] })
        let pooled = try group.createDataset("pooled" + suffix, type: .float32, shape: [keep.count, width])
        for (row, k) in keep.enumerated() { try pooled.writeRows(row..<(row + 1), try pooledSet.readRows(k..<(k + 1)) as [Float]) }
        var names = ["ids", "pooled"]
        if let perTokenSet {
            var offsets: [Int64] = [0]
            for k in keep { offsets.append(offsets.last! + tokenOffsets[k + 1] - tokenOffsets[k]) }
            _ = try group.write("per_token_offsets" + suffix, offsets)
            let tokens = try group.createDataset("per_token" + suffix, type: .float32, shape: [Int(offsets.last!), width])
            for (row, k) in keep.enumerated() {
                let rows: [Float] = try perTokenSet.readRows(Int(tokenOffsets[k])..<Int(tokenOffsets[k + 1]))
                try tokens.writeRows(Int(offsets[row])..<Int(offsets[row + 1]), rows)
            }
            names += ["per_token_offsets", "per_token"]
        }
        for name in names {
            try group.remove(name)
            try group.move(name + suffix, to: name)
        }
    }
}
