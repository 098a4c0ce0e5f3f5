import BioEmbedCore
import BioEmbedHDF5
import BioEmbedLinalg
import Foundation

/// `fmri connectivity`: `/fmri/timeseries` → `/fmri/connectivity/<kind>` `[S, R, R]` (nilearn's
/// `ConnectivityMeasure`), optionally `connectivity/<kind>_vectorized` (`sym_matrix_to_vec`), and
/// sliding-window correlation `/fmri/dynamic/correlation` `[ΣW, R, R]` f32 + offsets with the
/// Fisher-z standard deviation over windows `/fmri/dynamic/fisher_z_std` `[S, R, R]`.
///
/// `connectivity` and `dynamic` are nested collections: their own `ids` list the subjects written,
/// in `/fmri/ids` order. A subject whose series cannot be used (NaN columns, fewer than 2 volumes, a
/// singular covariance) is absent from both and has an `/errors` row. Tangent is a group estimate
/// over the usable subjects (at least 2): when it cannot be made, every subject fails here.
public struct FMRIConnectivityStage: CollectionStage {
    public struct Configuration: StageConfiguration {
        public var kind: [String]?
        public var estimator: String?
        public var vectorize: Bool?
        public var discardDiagonal: Bool?
        public var window: Int?
        public var step: Int?

        enum CodingKeys: String, CodingKey {
            case kind, estimator, vectorize, window, step
            case discardDiagonal = "discard_diagonal"
        }

        public static let defaultKind = ConnectivityKind.correlation
        public static let defaultEstimator = CovarianceEstimator.ledoitWolf
        public static let parameters = [
            StageParameter.choice("kind", ConnectivityKind.self, default: defaultKind, list: true, help: "Connectivity kinds (nilearn ConnectivityMeasure; tangent makes the stage a reduce over all subjects); on the CLI comma-separated."),
            StageParameter.choice("estimator", CovarianceEstimator.self, default: defaultEstimator, help: "Covariance estimator: ledoit-wolf (nilearn's default) or empirical (Pearson)."),
            StageParameter("vectorize", .boolean, default: false, help: "Also write connectivity/<kind>_vectorized (sym_matrix_to_vec)."),
            StageParameter("discard_diagonal", .boolean, default: false, help: "With vectorize: leave the diagonal out."),
            StageParameter("window", .integer, unit: "volumes", help: "Sliding-window length (dynamic/correlation), at least 2; none: no sliding windows."),
            StageParameter("step", .integer, unit: "volumes", help: "Sliding-window step (with window; 1 when only window is given)."),
        ]

        public init(kind: [String]? = nil, estimator: String? = nil, vectorize: Bool? = nil, discardDiagonal: Bool? = nil, window: Int? = nil, step: Int? = nil) {
            self.kind = kind
            self.estimator = estimator
            self.vectorize = vectorize
            self.discardDiagonal = discardDiagonal
            self.window = window
            self.step = step
        }

        public func kinds() throws(NeuroError) -> [ConnectivityKind] {
            var out: [ConnectivityKind] = []
            for text in kind ?? [Self.defaultKind.rawValue] {
                for part in text.split(separator: ",") where !part.isEmpty { out.append(try ConnectivityKind(parsing: String(part))) }
            }
            return out
        }

        public func covarianceEstimator() throws(NeuroError) -> CovarianceEstimator {
            guard let e = estimator.map({ CovarianceEstimator(rawValue: $0.replacingOccurrences(of: "_", with: "-")) }) ?? Self.defaultEstimator else {
                throw .invalidParameter(
                    name: "estimator", expected: CovarianceEstimator.allCases.map(\.rawValue).joined(separator: " or "), found: "'\(estimator ?? "")'")
            }
            return e
        }

        public func validate() throws(NeuroError) {
            _ = try kinds()
            _ = try covarianceEstimator()
            if (window == nil) != (step == nil) && window == nil {
                throw .invalidParameter(name: "window", expected: "a window length with --step", found: "only --step")
            }
            if let w = window, w < 2 { throw .invalidParameter(name: "window", expected: "at least 2 volumes", found: "\(w)") }
            if let s = step, s < 1 { throw .invalidParameter(name: "step", expected: "at least 1 volume", found: "\(s)") }
        }
    }

    public static let name = "fmri_connectivity"
    public static let startupNeeds: StartupNeeds = .blas
    /// 2: results in a nested collection (own ids, failed subjects absent), layout bioembed/fmri/2.
    public static let version = 2
    public static let summary = "Region time series -> connectivity matrices (nilearn ConnectivityMeasure), sliding windows"
    public static let inputCollection = "fmri"
    public static let outputSchema = BioEmbedVersion.schema(of: "fmri")

    public let configuration: Configuration
    public init(_ configuration: Configuration) { self.configuration = configuration }
    /// The tangent space is taken at the group mean of every subject's covariance: a reduce.
    /// The other kinds are per subject.
    public var kind: CollectionStageKind { ((try? configuration.kinds()) ?? []).contains(.tangent) ? .reduce : .map }
    public static var kindDescription: String { "map over a collection; reduce with kind tangent" }

    /// One subject's results (computed off the HDF5 thread).
    public struct SubjectResult: Sendable {
        public var matrices: [ConnectivityKind: [Double]] = [:]
        public var covariance: Matrix<Double>?
        public var windows: [[Double]] = []
        public var failures: [String] = []
    }

    /// Whether no value is NaN or ±Inf (`v·0` is NaN exactly for those; one branch-free pass).
    static func allFinite(_ values: [Double]) -> Bool {
        values.withUnsafeBufferPointer { p in
            var probe = 0.0
            for v in p { probe += v * 0 }
            return probe == 0
        }
    }

    /// Every requested kind, the shared covariance estimate (for tangent) and the windows of one
    /// subject; problems are reported as messages, nothing throws.
    public func analyse(_ x: Matrix<Double>, kinds: [ConnectivityKind], estimator: CovarianceEstimator) -> SubjectResult {
        var out = SubjectResult()
        if x.rows < 2 {
            out.failures.append("expected at least 2 volumes, found \(x.rows)")
        } else if !Self.allFinite(x.storage) {
            out.failures.append("expected finite time series, found NaN/Inf (a region without voxels?)")
        }
        if out.failures.isEmpty {
            var raw: Matrix<Double>?
            for kind in kinds {
                do {
                    if kind == .correlation {
                        out.matrices[kind] = try Connectivity.measure(x, kind: .correlation, estimator: estimator).storage
                    } else {
                        if raw == nil { raw = Connectivity.covariance(x, estimator: estimator).matrix }
                        if kind == .tangent { out.covariance = raw; continue }
                        out.matrices[kind] = try Connectivity.fromCovariance(raw!, kind: kind).storage
                    }
                } catch {
                    out.failures.append("\(kind.rawValue): \(error)")
                }
            }
        }
        if let window = configuration.window, out.failures.isEmpty {
            if x.rows < window { out.failures.append("expected at least \(window) volumes for the sliding window, found \(x.rows)") }
            else { out.windows = Connectivity.slidingWindowCorrelation(x, window: window, step: configuration.step ?? 1) }
        }
        return out
    }

    /// Streams subjects in small batches: the series are read (HDF5, one thread), turned into every
    /// requested kind side by side (one subject per core, BLAS single-threaded), and each result is
    /// written into its rows of the output datasets at once, so memory does not grow with the
    /// number of subjects (tangent, a group estimate, keeps one covariance per subject).
    public func run(input: HDF5File, output: HDF5File, errors: ErrorLog, context: CollectionStageContext) throws -> CollectionStageResult {
        try configuration.validate()
        let kinds = try configuration.kinds()
        let estimator = try configuration.covarianceEstimator()
        MemoryTuning.reuseLargeBuffers()  // several MB per subject, allocated and freed per subject
        let source = try input.root.group("fmri")
        let reader = try CollectionReader(source)
        let ids = reader.ids
        let count = ids.count
        let shape = try source.dataset("timeseries").shape
        let r = shape.count > 1 ? shape[1] : 1
        let offsets = try reader.offsets("timeseries_offsets")
        let series = try source.dataset("timeseries")
        let discard = configuration.discardDiagonal ?? false
        let vectorLength = discard ? r * (r - 1) / 2 : r * (r + 1) / 2
        // --resume: the rows of subjects whose key is unchanged, from the earlier output (read
        // before this run replaces the groups; a tangent run is a reduce and has no reuse)
        var reused: [EarlierRows.Dataset] = kinds.map { .init(path: "connectivity/\($0.rawValue)", rowLength: r * r) }
        if configuration.vectorize ?? false { reused += kinds.map { .init(path: "connectivity/\($0.rawValue)_vectorized", rowLength: vectorLength) } }
        if configuration.window != nil {
            reused += [.init(path: "dynamic/correlation", rowLength: r * r, offsets: "dynamic/correlation_offsets"), .init(path: "dynamic/fisher_z_std", rowLength: r * r)]
        }
        let earlier = EarlierRows(context.reuse, stage: Self.name, collection: "connectivity", ids: ids, datasets: reused)
        let kept = Set(ids.filter { earlier.contains($0) })  // for the workers: they skip these
        let group = try FMRICollection.outputGroup(input: input, output: output)
        // the stage owns /fmri/connectivity: its rows follow this run's ids
        try FMRICollection.removeIfPresent(group, "connectivity")
        let connectivity = try group.createGroup("connectivity")
        var datasets: [ConnectivityKind: HDF5Dataset] = [:]
        var vectorDatasets: [ConnectivityKind: HDF5Dataset] = [:]
        for kind in kinds {
            // tangent rows are known once every subject is read: written at the end
            if kind != .tangent {
                datasets[kind] = try connectivity.createDataset(kind.rawValue, type: .float64, shape: [0, r, r], appendable: true, rowsAtMost: count)
                try datasets[kind]!.setAttribute("estimator", .string(estimator.rawValue))
            }
            if configuration.vectorize ?? false {
                if kind != .tangent {
                    vectorDatasets[kind] = try connectivity.createDataset(kind.rawValue + "_vectorized", type: .float64, shape: [0, vectorLength], appendable: true, rowsAtMost: count)
                    try vectorDatasets[kind]!.setAttribute("discard_diagonal", .int(discard ? 1 : 0))
                }
            }
        }
        let window = configuration.window, step = configuration.step ?? 1
        var dynamic: (correlation: HDF5Dataset, fisher: HDF5Dataset, group: HDF5Group)?
        if let window {
            try FMRICollection.removeIfPresent(group, "dynamic")
            let g = try group.createGroup("dynamic")
            let d = try g.createDataset(
                "correlation", type: .float32, shape: [0, r, r], chunks: [max(1, 262_144 / max(1, r * r)), r, r], appendable: true,
                rowsAtMost: Self.windowCount(offsets, window: window, step: step))
            try d.setAttribute("window", .int(Int64(window)))
            try d.setAttribute("step", .int(Int64(step)))
            try g.setAttribute("window", .int(Int64(window)))
            try g.setAttribute("step", .int(Int64(step)))
            dynamic = (d, try g.createDataset("fisher_z_std", type: .float64, shape: [0, r, r], appendable: true, rowsAtMost: count), g)
        }
        var windowOffsets: [Int64] = [0]
        var written: [Int] = []  // the subjects of the nested collections, in order
        var failed = Set<Int>()
        func fail(_ k: Int, _ message: String) throws {
            if failed.insert(k).inserted {
                try errors.append(id: ids[k], stage: Self.name, category: .badInput, message: "\(input.path): /fmri \(ids[k]): \(message)")
            }
        }
        var tangentInputs: [(index: Int, covariance: Matrix<Double>)] = []
        let progress = ProgressReporter(label: Self.name, total: count, mode: context.progress)
        let width = BLASRuntime.parallelChunks(count)
        let batch = width == 1 ? 1 : 2 * width
        func read(_ items: Range<Int>) throws -> [Matrix<Double>] {
            try items.map { k in
                let values: [Double] = try series.readRows(Int(offsets[k])..<Int(offsets[k + 1]))
                return Matrix(rows: values.count / max(r, 1), columns: r, storage: values)
            }
        }
        // Batch i is computed on the workers while this thread reads batch i + 1 (HDF5 stays on one thread).
        var next = 0..<min(count, batch)
        var nextInputs = try read(next)
        while !next.isEmpty {
            let items = next, inputs = nextInputs
            let computed = ResultSlots<SubjectResult>(count: items.count)
            let finished = DispatchGroup()
            DispatchQueue.global().async(group: finished) { [self] in
                BLASRuntime.parallel(items.count) { range, _ in
                    for i in range {
                        let copied = kept.contains(ids[items.lowerBound + i])  // written from the earlier run below
                        computed.set(i, copied ? SubjectResult() : analyse(inputs[i], kinds: kinds, estimator: estimator))
                    }
                }
            }
            next = items.upperBound..<min(count, items.upperBound + batch)
            do { nextInputs = try read(next) } catch { finished.wait(); throw error }
            finished.wait()
            let results = computed.values
            for (i, k) in items.enumerated() {
                if earlier.contains(ids[k]) {
                    try writeEarlier(earlier, id: ids[k], kinds: kinds, datasets: datasets, vectorDatasets: vectorDatasets)
                    if let dynamic {
                        let windows = try earlierRow(earlier, ids[k], "dynamic/correlation")
                        try dynamic.correlation.append(windows.map(Float.init))
                        windowOffsets.append(windowOffsets.last! + Int64(windows.count / max(1, r * r)))
                        try dynamic.fisher.append(try earlierRow(earlier, ids[k], "dynamic/fisher_z_std"))
                    }
                    written.append(k)
                    progress.advance(failed: false)
                    continue
                }
                let result = results[i]
                for message in result.failures { try fail(k, message) }
                guard !failed.contains(k) else {
                    progress.advance(failed: true)
                    continue
                }
                for kind in kinds where kind != .tangent {
                    guard let m = result.matrices[kind] else { continue }
                    try datasets[kind]!.append(m)
                    if let v = vectorDatasets[kind] {
                        try v.append(Connectivity.vectorize(Matrix(rows: r, columns: r, storage: m), discardDiagonal: discard))
                    }
                }
                if let c = result.covariance { tangentInputs.append((k, c)) }
                if let dynamic {
                    for w in result.windows { try dynamic.correlation.append(w.map(Float.init)) }
                    windowOffsets.append(windowOffsets.last! + Int64(result.windows.count))
                    try dynamic.fisher.append(Connectivity.fisherZStd(result.windows, regions: r))
                }
                written.append(k)
                progress.advance(failed: false)
            }
        }
        if kinds.contains(.tangent) {
            // a reduce: no rows were kept from an earlier run, so the usable subjects are `written`
            var tangentFailure: String?
            if tangentInputs.count >= 2 {
                do {
                    let t = try Connectivity.tangent(tangentInputs.map(\.covariance))
                    tangentInputs = []
                    // row by row, as the other kinds: no second copy of every subject's matrix
                    let tangent = try connectivity.createDataset("tangent", type: .float64, shape: [0, r, r], appendable: true, rowsAtMost: t.matrices.count)
                    try tangent.setAttribute("estimator", .string(estimator.rawValue))
                    for m in t.matrices { try tangent.append(m.storage) }
                    if configuration.vectorize ?? false {
                        let v = try connectivity.createDataset("tangent_vectorized", type: .float64, shape: [0, vectorLength], appendable: true, rowsAtMost: t.matrices.count)
                        try v.setAttribute("discard_diagonal", .int(discard ? 1 : 0))
                        for m in t.matrices { try v.append(Connectivity.vectorize(m, discardDiagonal: discard)) }
                    }
                    _ = try connectivity.write("tangent_mean", t.mean.storage, shape: [r, r])
                    _ = try connectivity.write("tangent_whitening", t.whitening.storage, shape: [r, r])
                } catch let error as LinalgError {
                    tangentFailure = "tangent space: \(error)"
                }
            } else {
                tangentFailure = "tangent space: expected at least 2 usable subjects (a group estimate), found \(tangentInputs.count)"
            }
            if let tangentFailure {
                // every subject fails in this stage, so both collections are left empty
                for k in written { try fail(k, tangentFailure) }
                written = []
                windowOffsets = [0]
                try FMRICollection.removeIfPresent(group, "connectivity")
                _ = try group.createGroup("connectivity")
                if let window {
                    try FMRICollection.removeIfPresent(group, "dynamic")
                    let g = try group.createGroup("dynamic")
                    for (key, value) in [("window", window), ("step", step)] { try g.setAttribute(key, .int(Int64(value))) }
                }
            }
        }
        try FMRICollection.writeIDs(written.map { ids[$0] }, to: try group.group("connectivity"))
        if dynamic != nil {
            let g = try group.group("dynamic")
            try FMRICollection.writeIDs(written.map { ids[$0] }, to: g)
            try FMRICollection.removeIfPresent(g, "correlation_offsets")
            _ = try g.write("correlation_offsets", windowOffsets, shape: [windowOffsets.count])
        }
        progress.finish()
        return CollectionStageResult(done: count - failed.count - earlier.count, failed: failed.count, cached: earlier.count)
    }

    /// The number of sliding windows of every run together (the most rows `dynamic/correlation` gets).
    static func windowCount(_ offsets: [Int64], window: Int, step: Int) -> Int {
        zip(offsets.dropFirst(), offsets).reduce(0) { total, bounds in
            let length = Int(bounds.0 - bounds.1)
            return total + (length >= window ? (length - window) / max(1, step) + 1 : 0)
        }
    }

    /// The static matrices (and their vectorized rows) of one subject copied from an earlier run.
    private func writeEarlier(
        _ earlier: EarlierRows, id: String, kinds: [ConnectivityKind], datasets: [ConnectivityKind: HDF5Dataset],
        vectorDatasets: [ConnectivityKind: HDF5Dataset]
    ) throws {
        for kind in kinds where kind != .tangent {
            try datasets[kind]!.append(try earlierRow(earlier, id, "connectivity/\(kind.rawValue)"))
            if let v = vectorDatasets[kind] { try v.append(try earlierRow(earlier, id, "connectivity/\(kind.rawValue)_vectorized")) }
        }
    }

    /// A kept subject's rows, or an error naming what could not be read (the subject was already
    /// promised to the output: its computation was skipped).
    private func earlierRow(_ earlier: EarlierRows, _ id: String, _ dataset: String) throws(NeuroError) -> [Double] {
        guard let row = earlier.row(id, dataset) else {
            throw .invalidInput(file: "the earlier output (--resume)", expected: "/fmri/\(dataset) of \(id)", found: "an unreadable row")
        }
        return row
    }
}
