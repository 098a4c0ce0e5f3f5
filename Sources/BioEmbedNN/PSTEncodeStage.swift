import BioEmbedCore
import BioEmbedHDF5
import Foundation

/// `encode_pst`: PST embeddings of the chains of `/proteins` → `/embeddings/pst`.
///
/// Per chain: ESM-1b tokens `<cls> sequence <eos>` (unknown letters → `<unk>`), the Cα radius
/// graph at the config's radius (default 8 Å, inclusive, no self loops; residues with a NaN Cα
/// get no edges), then the model. `per_token` = per-residue embeddings (cls/eos dropped),
/// `pooled` = their mean. Chains longer than `max_residues` (config, default 1022) fail as items,
/// or are truncated or encoded in overlapping windows (`long_chains`, see `LongChainPolicy`); the
/// policy is the group's `long_chains` attribute.
public struct PSTEncodeStage: CollectionStage {
    public static let name = "encode_pst"
    public static let startupNeeds: StartupNeeds = .blas
    public static let version = 1
    public static let summary = "PST (structure-aware ESM-2) embeddings of /proteins chains -> /embeddings/pst."
    public static let inputCollection = "proteins"
    public static let outputSchema = BioEmbedVersion.schema(of: "embeddings")

    public let configuration: EncoderConfiguration
    public init(_ configuration: EncoderConfiguration) { self.configuration = configuration }
    public var resumeFiles: [String] { [configuration.weights, configuration.config] }

    public func run(input: HDF5File, output: HDF5File, errors: ErrorLog, context: CollectionStageContext) throws -> CollectionStageResult {
        let pooling = try configuration.pooling(choices: ["mean"])
        let configFile = try ModelConfigFile(path: configuration.config)
        let checksum = EmbeddingWriter.WeightsChecksum(configuration.weights, known: context.reuse?.fileHashes[configuration.weights])
        let config = try PSTConfig(configFile)
        let (store, precision) = try configuration.openWeights(stage: Self.name)
        let model = try EmbeddingWriter.timed("\(Self.name): weights") { () throws -> PSTModel in try PSTModel(config: config, weights: store) }
        let reader = try CollectionReader(try input.root.group(Self.inputCollection))
        let sequences = try reader.group.dataset("sequence").readStrings()
        let offsets = try reader.offsets("residue_offsets")
        let caSet = try reader.group.dataset("ca")
        guard sequences.count == reader.count, caSet.shape == [Int(offsets.last ?? 0), 3] else {
            throw NNError.invalidInput(
                file: input.path, expected: "/proteins/sequence [\(reader.count)] and ca [\(offsets.last ?? 0), 3]",
                found: "sequence [\(sequences.count)], ca \(caSet.shape)")
        }
        // Validation first (so the output's size is known); chains are read again, batch by batch.
        var kept: [Int] = []
        var windows = [[Range<Int>]](repeating: [], count: reader.count)  // residue ranges encoded per chain
        var failed = 0
        for i in 0..<reader.count {
            let count = Int(offsets[i + 1] - offsets[i])
            let letters = sequences[i].count
            do {
                guard letters == count else {
                    throw NNError.invalidItem(id: reader.ids[i], detail: "sequence has \(letters) letters but \(count) residues have coordinates")
                }
                guard count > 0 else { throw NNError.invalidItem(id: reader.ids[i], detail: "chain has no residues") }
                guard let ranges = try configuration.windows(count: count, maximum: config.maxResidues) else {
                    throw NNError.invalidItem(
                        id: reader.ids[i],
                        detail: "chain has \(count) residues, the model allows at most \(config.maxResidues) (max_residues in \(configuration.config)); "
                            + "long_chains: truncate or windows encodes it")
                }
                kept.append(i)
                windows[i] = ranges
            } catch let error as NNError where error.isConfiguration {
                throw error
            } catch {
                let text = ((error as Any) as? any BioEmbedError)?.description ?? "\(error)"
                try errors.append(id: reader.ids[i], stage: Self.name, category: .badInput, message: "\(input.path): \(text)")
                failed += 1
            }
        }
        let table = config.tokenTable()
        let d = config.embedDim
        // Residues with output: the whole chain, or (truncate) the part encoded.
        let covered = windows.map { ranges in (ranges.map(\.upperBound).max() ?? 0) - (ranges.map(\.lowerBound).min() ?? 0) }
        let writer = try EmbeddingWriter(
            file: output, model: "pst", ids: reader.ids, kept: kept, width: d,
            perTokenRows: configuration.perToken ? kept.map { covered[$0] } : nil,
            errors: errors, stage: Self.name, source: input.path)
        let todo = try writer.reuseEarlierRows(context.reuse)
        // Work units: (chain, window); a chain is written once all of its windows are done.
        let units = todo.flatMap { i in windows[i].map { (item: i, range: $0) } }
        let unitLengths = units.map { $0.range.count + 2 }  // <cls> residues <eos>
        var partial: [Int: (sum: [Float], count: [Float], left: Int)] = [:]
        let forwardStart = Date()
        for batch in configuration.batches(lengths: unitLengths, items: Array(units.indices)) {
            let inputs = try batch.map { u -> PSTModel.Sequence in
                let (i, range) = units[u]
                let start = Int(offsets[i]) + range.lowerBound
                let ca: [Float] = try caSet.readRows(start..<(start + range.count))
                return Self.sequence(letters: Array(Array(sequences[i])[range]), ca: ca, config: config, table: table)
            }
            let outputs = SideBySide.forward(inputs, cost: { model.cost(tokens: $0.tokens.count) }) { model.forward($0) }
            for (u, out) in zip(batch, outputs) {
                let (i, range) = units[u]
                let residues = Array(out.tokenEmbeddings[d..<(out.tokenEmbeddings.count - d)])
                var perResidue = residues
                if windows[i].count > 1 {
                    // accumulate this window into the chain's running sums
                    let first = windows[i][0].lowerBound, rows = covered[i]
                    var entry = partial[i] ?? ([Float](repeating: 0, count: rows * d), [Float](repeating: 0, count: rows), windows[i].count)
                    for r in 0..<range.count {
                        let row = range.lowerBound - first + r
                        for j in 0..<d { entry.sum[row * d + j] += residues[r * d + j] }
                        entry.count[row] += 1
                    }
                    entry.left -= 1
                    guard entry.left == 0 else { partial[i] = entry; continue }
                    partial[i] = nil
                    perResidue = entry.sum
                    for row in 0..<rows { let c = entry.count[row]; for j in 0..<d { perResidue[row * d + j] /= c } }
                }
                var mean = [Float](repeating: 0, count: d)
                perResidue.withUnsafeBufferPointer { r in
                    NNKernels.meanRows(r.baseAddress!, width: d, rows: 0..<(perResidue.count / d), into: &mean)
                }
                try writer.set(i, pooled: mean, perToken: configuration.perToken ? perResidue : nil)
            }
        }
        Diagnostics.debug("\(Self.name): forward \(String(format: "%.3f", Date().timeIntervalSince(forwardStart))) s")
        let sha = try checksum.value()
        try writer.finish(model: "pst", config: configFile.text, weightsSHA256: sha, pooling: pooling, precision: precision,
                          longChains: configuration.longChainDescription(maximum: config.maxResidues))
        return CollectionStageResult(
            done: writer.done, failed: failed + writer.failed, cached: writer.cached,
            inputs: [Provenance.Input(path: configuration.weights, sha256: sha)])
    }

    /// Tokens and the radius graph (token indices, both directions) of one chain.
    public static func sequence(letters: [Character], ca: [Float], config: PSTConfig, table: [Character: Int32]) -> PSTModel.Sequence {
        let n = letters.count
        var tokens: [Int32] = [Int32(config.clsIndex)]
        for letter in letters { tokens.append(table[Character(letter.uppercased())] ?? Int32(config.unkIndex)) }
        tokens.append(Int32(config.eosIndex))
        var sources: [Int32] = [], targets: [Int32] = []
        let r2 = config.radius * config.radius
        for i in 0..<n {
            let xi = ca[3 * i], yi = ca[3 * i + 1], zi = ca[3 * i + 2]
            if xi.isNaN || yi.isNaN || zi.isNaN { continue }
            for j in 0..<n where j != i {
                let dx = ca[3 * j] - xi, dy = ca[3 * j + 1] - yi, dz = ca[3 * j + 2] - zi
                if dx * dx + dy * dy + dz * dz <= r2 {  // NaN compares false: no edge
                    sources.append(Int32(j + 1))
                    targets.append(Int32(i + 1))
                }
            }
        }
        return PSTModel.Sequence(tokens: tokens, edgeSources: sources, edgeTargets: targets)
    }
}
