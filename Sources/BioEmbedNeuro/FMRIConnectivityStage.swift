import BioEmbedCore
import BioEmbedHDF5
import BioEmbedLinalg
import Foundation

/// `fmri connectivity`: `/fmri/timeseries` → `/fmri/connectivity/<kind>` `[S, R, R]` (nilearn's
/// `ConnectivityMeasure`), optionally `connectivity/<kind>_vectorized` (`sym_matrix_to_vec`), and
/// sliding-window correlation `/fmri/dynamic/correlation` `[ΣW, R, R]` f32 + offsets with the
/// Fisher-z standard deviation over windows `/fmri/dynamic/fisher_z_std` `[S, R, R]`.
///
/// A subject whose series cannot be used (NaN columns, fewer than 2 volumes, a singular
/// covariance) gets NaN matrices and an `/errors` row; the others are written. Tangent uses the
/// usable subjects only (at least 2).
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

        public static let parameterNames = ["kind", "estimator", "vectorize", "discard_diagonal", "window", "step"]

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
            for text in kind ?? ["correlation"] {
                for part in text.split(separator: ",") where !part.isEmpty { out.append(try ConnectivityKind(parsing: String(part))) }
            }
            return out
        }

        public func covarianceEstimator() throws(NeuroError) -> CovarianceEstimator {
            guard let e = CovarianceEstimator(rawValue: (estimator ?? "ledoit-wolf").replacingOccurrences(of: "_", with: "-")) else {
                throw .invalidParameter(name: "estimator", expected: "ledoit-wolf or empirical", found: "'\(estimator ?? "")'")
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
    public static let version = 1
    public static let summary = "Region time series -> connectivity matrices (nilearn ConnectivityMeasure), sliding windows"
    public static let inputCollection = "fmri"
    public static let outputSchema = "bioembed/fmri/1"

    public let configuration: Configuration
    public init(_ configuration: Configuration) { self.configuration = configuration }

    /// Streams subjects: each one's series is read, turned into every requested kind (one covariance
    /// estimate shared by covariance/precision/partial correlation/tangent) and its windows, then dropped.
    public func run(input: HDF5File, output: HDF5File, errors: ErrorLog, context: CollectionStageContext) throws -> CollectionStageResult {
        try configuration.validate()
        let kinds = try configuration.kinds()
        let estimator = try configuration.covarianceEstimator()
        let source = try input.root.group("fmri")
        let reader = try CollectionReader(source)
        let ids = reader.ids
        let count = ids.count
        let shape = try source.dataset("timeseries").shape
        let r = shape.count > 1 ? shape[1] : 1
        let group = try FMRICollection.outputGroup(input: input, output: output)
        let connectivity = try group.openOrCreateGroup("connectivity")
        var failed = Set<Int>()
        func fail(_ k: Int, _ message: String) throws {
            if failed.insert(k).inserted {
                try errors.append(id: ids[k], stage: Self.name, category: .badInput, message: "\(input.path): /fmri \(ids[k]): \(message)")
            }
        }
        var results: [ConnectivityKind: [Double]] = [:]
        for kind in kinds { results[kind] = [Double](repeating: .nan, count: count * r * r) }
        var tangentInputs: [(index: Int, covariance: Matrix<Double>)] = []
        let window = configuration.window, step = configuration.step ?? 1
        var windowOffsets: [Int64] = [0]
        var windowValues: [Float] = []
        var fisherStd: [Double] = []
        let progress = ProgressReporter(label: Self.name, total: count, mode: context.progress)
        for k in 0..<count {
            let values: [Double] = try reader.rows("timeseries", offsets: "timeseries_offsets", item: k)
            let x = Matrix(rows: values.count / max(r, 1), columns: r, storage: values)
            if x.rows < 2 { try fail(k, "expected at least 2 volumes, found \(x.rows)") }
            else if x.storage.contains(where: { !$0.isFinite }) { try fail(k, "expected finite time series, found NaN/Inf (a region without voxels?)") }
            if !failed.contains(k) {
                var raw: Matrix<Double>?
                for kind in kinds {
                    do {
                        let m: Matrix<Double>
                        if kind == .correlation {
                            m = try Connectivity.measure(x, kind: .correlation, estimator: estimator)
                        } else {
                            if raw == nil { raw = Connectivity.covariance(x, estimator: estimator).matrix }
                            if kind == .tangent { tangentInputs.append((k, raw!)); continue }
                            m = try Connectivity.fromCovariance(raw!, kind: kind)
                        }
                        results[kind]!.withUnsafeMutableBufferPointer { out in
                            m.storage.withUnsafeBufferPointer { out.baseAddress!.advanced(by: k * r * r).update(from: $0.baseAddress!, count: r * r) }
                        }
                    } catch {
                        try fail(k, "\(kind.rawValue): \(error)")
                    }
                }
            }
            if let window {
                var windows: [[Double]] = []
                if !failed.contains(k) {
                    if x.rows < window { try fail(k, "expected at least \(window) volumes for the sliding window, found \(x.rows)") }
                    else { windows = Connectivity.slidingWindowCorrelation(x, window: window, step: step) }
                }
                for w in windows { windowValues.append(contentsOf: w.map(Float.init)) }
                windowOffsets.append(windowOffsets.last! + Int64(windows.count))
                fisherStd.append(contentsOf: windows.isEmpty ? FMRICollection.nanMatrix(r) : Connectivity.fisherZStd(windows, regions: r))
            }
            progress.advance(failed: failed.contains(k))
        }
        if kinds.contains(.tangent) {
            let usable = tangentInputs.filter { !failed.contains($0.index) }
            if usable.count >= 2 {
                do {
                    let t = try Connectivity.tangent(usable.map(\.covariance))
                    for (i, entry) in usable.enumerated() {
                        results[.tangent]!.replaceSubrange((entry.index * r * r)..<((entry.index + 1) * r * r), with: t.matrices[i].storage)
                    }
                    try FMRICollection.removeIfPresent(connectivity, "tangent_mean")
                    try FMRICollection.removeIfPresent(connectivity, "tangent_whitening")
                    _ = try connectivity.write("tangent_mean", t.mean.storage, shape: [r, r])
                    _ = try connectivity.write("tangent_whitening", t.whitening.storage, shape: [r, r])
                } catch let error as LinalgError {
                    for entry in usable { try fail(entry.index, "tangent space: \(error)") }
                }
            } else {
                Diagnostics.warning("\(input.path): tangent needs at least 2 usable subjects, found \(usable.count); connectivity/tangent is NaN")
            }
        }
        for kind in kinds {
            try FMRICollection.removeIfPresent(connectivity, kind.rawValue)
            let dataset = try connectivity.write(kind.rawValue, results[kind]!, shape: [count, r, r])
            try dataset.setAttribute("estimator", .string(estimator.rawValue))
            if configuration.vectorize ?? false {
                let discard = configuration.discardDiagonal ?? false
                var vectors: [Double] = []
                for k in 0..<count {
                    let m = Matrix(rows: r, columns: r, storage: Array(results[kind]![(k * r * r)..<((k + 1) * r * r)]))
                    vectors += Connectivity.vectorize(m, discardDiagonal: discard)
                }
                let name = kind.rawValue + "_vectorized"
                try FMRICollection.removeIfPresent(connectivity, name)
                let v = try connectivity.write(name, vectors, shape: [count, count > 0 ? vectors.count / count : 0])
                try v.setAttribute("discard_diagonal", .int(discard ? 1 : 0))
            }
        }
        if let window {
            try FMRICollection.removeIfPresent(group, "dynamic")
            let dynamic = try group.createGroup("dynamic")
            let d = try dynamic.write("correlation", windowValues, shape: [Int(windowOffsets.last!), r, r])
            try d.setAttribute("window", .int(Int64(window)))
            try d.setAttribute("step", .int(Int64(step)))
            _ = try dynamic.write("correlation_offsets", windowOffsets, shape: [windowOffsets.count])
            _ = try dynamic.write("fisher_z_std", fisherStd, shape: [count, r, r])
            try dynamic.setAttribute("window", .int(Int64(window)))
            try dynamic.setAttribute("step", .int(Int64(step)))
        }
        progress.finish()
        return CollectionStageResult(done: count - failed.count, failed: failed.count)
    }
}
