import BioEmbedCore
import BioEmbedHDF5
import BioEmbedLinalg
import Foundation

/// `fmri factorize`: non-negative CP (PARAFAC, `NonNegativeCP`, as tensorly's
/// `non_negative_parafac_hals`) of the sliding-window connectivity tensor `/fmri/dynamic/correlation`
/// (`[windows, R, R]` per subject, from `fmri connectivity --window`) → `/fmri/dynamic/cp`:
/// `window_factors` `[ΣW, rank]` (rows by `correlation_offsets`), `row_factors` and `column_factors`
/// `[F, R, rank]`, `reconstruction_error` and `iterations` `[F]`, where F = S fits per subject
/// (`scope: subject`, a map) or one fit of all subjects' windows stacked (`scope: group`, a reduce:
/// shared region factors, every window its own temporal weights). Before the fit, negative entries
/// are set to 0 (`values: positive`, default), replaced by their magnitude (`absolute`) or kept
/// (`raw`), and the diagonal (self-correlation 1) is set to 0 unless `diagonal: keep`. Initial
/// factors: uniform [0, 1) from SplitMix64 seeded with `seed` (for each fit, A then B then C, row-major;
/// fit f uses seed + f), so the same call reproduces the same factors.
public struct FMRIDynamicCPStage: CollectionStage {
    public struct Configuration: StageConfiguration {
        public enum Scope: String, Codable, Sendable, CaseIterable { case subject, group }
        public enum Values: String, Codable, Sendable, CaseIterable { case positive, absolute, raw }
        public enum Diagonal: String, Codable, Sendable, CaseIterable { case zero, keep }

        public var rank: Int
        public var scope: Scope
        public var values: Values
        public var diagonal: Diagonal
        public var maxIterations: Int
        public var tolerance: Double
        public var seed: UInt64

        public static let defaultRank = 10
        public static let defaultMaxIterations = 100
        /// tensorly's default `tol` (10e-8).
        public static let defaultTolerance = 1e-7

        enum CodingKeys: String, CodingKey, CaseIterable {
            case rank, scope, values, diagonal
            case maxIterations = "max_iterations"
            case tolerance, seed
        }

        public static let parameters: [StageParameter] = {
            let d = Configuration()
            return [
                StageParameter("rank", .integer, default: d.rank, help: "Number of components (1 to 1000)."),
                .choice("scope", Scope.self, default: d.scope, help: "subject: one fit per subject (map); group: one fit of all subjects' windows (reduce)."),
                .choice("values", Values.self, default: d.values, help: "Negative correlations before the fit: positive (set to 0), absolute, or raw (kept)."),
                .choice("diagonal", Diagonal.self, default: d.diagonal, help: "The diagonal (self-correlation 1): zero or keep."),
                StageParameter("max_iterations", .integer, default: d.maxIterations, help: "Most ALS iterations per fit (1 to 1000000)."),
                StageParameter("tolerance", .number, default: d.tolerance, help: "Stop when the relative reconstruction error changes by less than this (0: run every iteration)."),
                StageParameter("seed", .integer, default: d.seed, help: "Seed of the initial factors (uniform in [0, 1))."),
            ]
        }()

        /// The defaults, declared here once (the table, the pipeline decoder and the CLI read them).
        public init(rank: Int = defaultRank, scope: Scope = .subject, values: Values = .positive, diagonal: Diagonal = .zero,
                    maxIterations: Int = defaultMaxIterations, tolerance: Double = defaultTolerance, seed: UInt64 = 0) {
            self.rank = rank
            self.scope = scope
            self.values = values
            self.diagonal = diagonal
            self.maxIterations = maxIterations
            self.tolerance = tolerance
            self.seed = seed
        }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            let d = Configuration()
            self.init(
                rank: try c.decodeIfPresent(Int.self, forKey: .rank) ?? d.rank,
                scope: try c.decodeIfPresent(Scope.self, forKey: .scope) ?? d.scope,
                values: try c.decodeIfPresent(Values.self, forKey: .values) ?? d.values,
                diagonal: try c.decodeIfPresent(Diagonal.self, forKey: .diagonal) ?? d.diagonal,
                maxIterations: try c.decodeIfPresent(Int.self, forKey: .maxIterations) ?? d.maxIterations,
                tolerance: try c.decodeIfPresent(Double.self, forKey: .tolerance) ?? d.tolerance,
                seed: try c.decodeIfPresent(UInt64.self, forKey: .seed) ?? d.seed)
            try validate()
        }

        /// Range checks (also run by the CLI before anything is read).
        public func validate() throws(NeuroError) {
            guard (1...1_000).contains(rank) else { throw .invalidParameter(name: "rank", expected: "1 to 1000", found: "\(rank)") }
            guard (1...1_000_000).contains(maxIterations) else {
                throw .invalidParameter(name: "max_iterations", expected: "1 to 1000000", found: "\(maxIterations)")
            }
            guard tolerance.isFinite, tolerance >= 0 else { throw .invalidParameter(name: "tolerance", expected: "a finite number ≥ 0", found: "\(tolerance)") }
        }
    }

    public static let name = "fmri_factorize"
    public static let startupNeeds: StartupNeeds = .blas
    /// 2: results in a nested collection (own ids, failed subjects absent), layout bioembed/fmri/2.
    public static let version = 2
    public static let summary = "Sliding-window connectivity -> non-negative CP (PARAFAC) factors per subject or over the group"
    public static let inputCollection = "fmri"
    public static let outputSchema = BioEmbedVersion.schema(of: "fmri")
    public static let reads = [FMRIConnectivityStage.name]
    public static var kindDescription: String { "map over a collection; reduce with scope group" }

    public let configuration: Configuration
    public init(_ configuration: Configuration) { self.configuration = configuration }
    public var kind: CollectionStageKind { configuration.scope == .group ? .reduce : .map }
    /// The one id of `/fmri/dynamic/cp/ids` for a group-scope fit (the schema's `whole`).
    public static let groupID = "group"

    public func run(input: HDF5File, output: HDF5File, errors: ErrorLog, context: CollectionStageContext) throws -> CollectionStageResult {
        try configuration.validate()
        let fmri = try input.root.group("fmri")
        guard fmri.kind(of: "dynamic/correlation") == .dataset, fmri.kind(of: "dynamic/correlation_offsets") == .dataset else {
            throw NeuroError.invalidInput(
                file: input.path, expected: "/fmri/dynamic/correlation and correlation_offsets (bioembed fmri connectivity --window W --step S)",
                found: "none")
        }
        let all = try fmri.dataset("ids").readStrings()
        let ids = try FMRICollection.nestedIDs(fmri, "dynamic", file: input.path, writtenBy: "fmri connectivity --window")
        let windows = try fmri.dataset("dynamic/correlation")
        let offsets: [Int64] = try fmri.dataset("dynamic/correlation_offsets").read()
        let r = windows.shape.count == 3 ? windows.shape[1] : 0
        guard windows.shape.count == 3, windows.shape[2] == r, offsets.count == ids.count + 1, offsets.first == 0,
              zip(offsets, offsets.dropFirst()).allSatisfy({ $0 <= $1 }), Int(offsets.last ?? 0) == windows.shape[0]
        else {
            throw NeuroError.invalidInput(
                file: input.path, expected: "correlation [ΣW, R, R] with \(ids.count + 1) non-decreasing offsets ending at ΣW",
                found: "correlation \(windows.shape), \(offsets.count) offsets ending at \(offsets.last ?? 0)")
        }
        let rank = configuration.rank
        // The fits: each subject's windows (seeded by its position in /fmri/ids), or every subject's together.
        var position: [String: Int] = [:]
        for (k, id) in all.enumerated() where position[id] == nil { position[id] = k }
        let fits: [(id: String, windows: Range<Int>, seed: UInt64)]
        switch configuration.scope {
        case .subject:
            fits = ids.enumerated().map { k, id in
                (id, Int(offsets[k])..<Int(offsets[k + 1]), configuration.seed &+ UInt64(position[id] ?? k))
            }
        case .group:
            guard windows.shape[0] > 0 else {
                throw NeuroError.invalidInput(file: input.path, expected: "sliding windows of at least one subject", found: "none")
            }
            fits = [(Self.groupID, 0..<windows.shape[0], configuration.seed)]
        }
        // --resume (subject scope, a map): fits of subjects whose key is unchanged, at the same
        // position of /fmri/ids (the seed of a fit)
        let earlier = EarlierRows(context.reuse, stage: Self.name, collection: "dynamic/cp", ids: configuration.scope == .subject ? all : [], datasets: [
            .init(path: "dynamic/cp/window_factors", rowLength: rank, offsets: "dynamic/cp/window_offsets"),
            .init(path: "dynamic/cp/row_factors", rowLength: r * rank), .init(path: "dynamic/cp/column_factors", rowLength: r * rank),
            .init(path: "dynamic/cp/reconstruction_error", rowLength: 1), .init(path: "dynamic/cp/iterations", rowLength: 1),
        ], sameRow: true)
        let group = try FMRICollection.outputGroup(input: input, output: output)
        // a new output file: /fmri/dynamic holds the ids the windows belong to, cp nested below
        let dynamic = group.kind(of: "dynamic") == .group ? try group.group("dynamic") : try group.createGroup("dynamic")
        if dynamic.kind(of: "ids") == nil { try FMRICollection.writeIDs(ids, to: dynamic) }
        try FMRICollection.removeIfPresent(dynamic, "cp")
        let out = try dynamic.createGroup("cp")
        let windowFactors = try out.createDataset("window_factors", type: .float64, shape: [0, rank], appendable: true, rowsAtMost: windows.shape[0])
        let rowFactors = try out.createDataset("row_factors", type: .float64, shape: [0, r, rank], appendable: true, rowsAtMost: fits.count)
        let columnFactors = try out.createDataset("column_factors", type: .float64, shape: [0, r, rank], appendable: true, rowsAtMost: fits.count)
        var written: [String] = [], windowOffsets: [Int64] = [0]
        var reconstruction: [Double] = [], iterations: [Int64] = []
        let progress = ProgressReporter(label: Self.name, total: fits.count, mode: context.progress)
        var cached = 0, failed = 0
        func write(_ id: String, _ factors: [[Double]], error: Double, count: Int64) throws {
            try windowFactors.append(factors[0])
            try rowFactors.append(factors[1])
            try columnFactors.append(factors[2])
            windowOffsets.append(windowOffsets.last! + Int64(factors[0].count / rank))
            reconstruction.append(error)
            iterations.append(count)
            written.append(id)
        }
        /// A fit that could not run: listed in /errors, absent from the collection.
        func fail(_ id: String, _ why: String) throws {
            try errors.append(id: id, stage: Self.name, category: .badInput, message: "\(input.path): /fmri \(id): \(why)")
            failed += 1
        }
        for fit in fits {
            defer { progress.advance() }
            let (id, range) = (fit.id, fit.windows)
            guard !range.isEmpty else { try fail(id, "expected sliding windows, found none"); continue }
            if configuration.scope == .subject, earlier.contains(id), let old = earlier.row(id, "dynamic/cp/window_factors"),
               old.count == range.count * rank, let rowsF = earlier.row(id, "dynamic/cp/row_factors"),
               let columnsF = earlier.row(id, "dynamic/cp/column_factors"),
               let error = earlier.row(id, "dynamic/cp/reconstruction_error")?.first,
               let count = earlier.row(id, "dynamic/cp/iterations")?.first {
                try write(id, [old, rowsF, columnsF], error: error, count: Int64(count))
                cached += 1
                continue
            }
            // the fit's work arrays: X·C and A ⊙ B, [windows·R, rank] each, and rank × rank Gram
            // matrices (the tensor's read is bounded by readRows)
            guard MemoryBudget.fits([range.count, r, rank, 2], elementSize: MemoryLayout<Double>.stride),
                  MemoryBudget.fits([rank, rank, 4], elementSize: MemoryLayout<Double>.stride) else {
                try fail(id, "expected work arrays of at most \(MemoryBudget.describe(MemoryBudget.perInput)) (the memory budget of one input), "
                         + "found \(range.count) windows × \(r) regions × rank \(rank) × 2 doubles")
                continue
            }
            var tensor: [Float] = try windows.readRows(range)
            prepare(&tensor, regions: r)
            let initial = Self.initialFactors(sizes: [range.count, r, r], rank: rank, seed: fit.seed)
            guard tensor.contains(where: { $0 != 0 }), tensor.allSatisfy(\.isFinite) else {
                try fail(id, "expected finite windows with a non-zero entry, found \(tensor.allSatisfy(\.isFinite) ? "all zeros" : "NaN/Inf")")
                continue
            }
            let result = tensor.withUnsafeBufferPointer { t in
                NonNegativeCP.fit(t, shape: (range.count, r, r), rank: rank, initial: initial, maxIterations: configuration.maxIterations,
                                  tolerance: configuration.tolerance)
            }
            try write(id, result.factors, error: result.errors.last ?? .nan, count: Int64(result.errors.count))
        }
        progress.finish()
        try FMRICollection.writeIDs(written, to: out)
        _ = try out.write("window_offsets", windowOffsets, shape: [windowOffsets.count])
        _ = try out.write("reconstruction_error", reconstruction, shape: [written.count])
        _ = try out.write("iterations", iterations, shape: [written.count])
        for (key, value) in [("scope", configuration.scope.rawValue), ("values", configuration.values.rawValue),
                             ("diagonal", configuration.diagonal.rawValue), ("init", "uniform [0,1) SplitMix64")] {
            try out.setAttribute(key, .string(value))
        }
        try out.setAttribute("rank", .int(Int64(rank)))
        try out.setAttribute("max_iterations", .int(Int64(configuration.maxIterations)))
        try out.setAttribute("tolerance", .double(configuration.tolerance))
        try out.setAttribute("seed", .int(Int64(bitPattern: configuration.seed)))
        if configuration.scope == .group { return CollectionStageResult(done: failed == 0 ? ids.count : 0, failed: failed, cached: 0) }
        return CollectionStageResult(done: fits.count - failed - cached, failed: failed, cached: cached)
    }

    /// Applies `values` and `diagonal` to windows `[W, R, R]` in place.
    func prepare(_ tensor: inout [Float], regions r: Int) {
        tensor.withUnsafeMutableBufferPointer { t in
            switch configuration.values {
            case .positive: for i in t.indices { t[i] = max(t[i], 0) }
            case .absolute: for i in t.indices { t[i] = abs(t[i]) }
            case .raw: break
            }
            if configuration.diagonal == .zero, r > 0 {
                for w in 0..<(t.count / (r * r)) { for i in 0..<r { t[w * r * r + i * r + i] = 0 } }
            }
        }
    }

    /// Initial factors `[size, rank]` for each mode, uniform in [0, 1): SplitMix64 from `seed`,
    /// u = (next >> 11) · 2⁻⁵³, filled mode by mode, row-major.
    public static func initialFactors(sizes: [Int], rank: Int, seed: UInt64) -> [[Double]] {
        var state = seed
        func next() -> Double {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            z ^= z >> 31
            return Double(z >> 11) * 0x1p-53
        }
        return sizes.map { size in (0..<(size * rank)).map { _ in next() } }
    }
}
