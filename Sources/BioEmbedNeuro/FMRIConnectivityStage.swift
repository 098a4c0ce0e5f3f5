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

    public func run(input: HDF5File, output: HDF5File, errors: ErrorLog, context: CollectionStageContext) throws -> CollectionStageResult {
        try configuration.validate()
        let kinds = try configuration.kinds()
        let estimator = try configuration.covarianceEstimator()
        let (ids, series) = try FMRICollection.timeSeries(input)
        let group = try FMRICollection.outputGroup(input: input, output: output)
        let connectivity = try group.openOrCreateGroup("connectivity")
        let r = series.first?.columns ?? 0
        var failed = Set<Int>()
        func fail(_ k: Int, _ message: String) throws {
            if failed.insert(k).inserted {
                try errors.append(id: ids[k], stage: Self.name, category: .badInput, message: "\(input.path): /fmri \(ids[k]): \(message)")
            }
        }
        for (k, x) in series.enumerated() {
            if x.rows < 2 { try fail(k, "expected at least 2 volumes, found \(x.rows)") }
            else if x.storage.contains(where: { !$0.isFinite }) { try fail(k, "expected finite time series, found NaN/Inf (a region without voxels?)") }
        }
        let progress = ProgressReporter(label: Self.name, total: series.count * kinds.count, mode: context.progress)
        for kind in kinds {
            var matrices = [[Double]](repeating: FMRICollection.nanMatrix(r), count: series.count)
            if kind == .tangent {
                let usable = series.indices.filter { !failed.contains($0) }
                var covariances: [Matrix<Double>] = []
                for k in usable { covariances.append(Connectivity.covariance(series[k], estimator: estimator).matrix) }
                if usable.count >= 2 {
                    do {
                        let t = try Connectivity.tangent(covariances)
                        for (i, k) in usable.enumerated() { matrices[k] = t.matrices[i].storage }
                        try FMRICollection.removeIfPresent(connectivity, "tangent_mean")
                        try FMRICollection.removeIfPresent(connectivity, "tangent_whitening")
                        _ = try connectivity.write("tangent_mean", t.mean.storage, shape: [r, r])
                        _ = try connectivity.write("tangent_whitening", t.whitening.storage, shape: [r, r])
                    } catch let error as LinalgError {
                        for k in usable { try fail(k, "tangent space: \(error)") }
                    }
                } else {
                    Diagnostics.warning("\(input.path): tangent needs at least 2 usable subjects, found \(usable.count); connectivity/tangent is NaN")
                }
                progress.advance(failed: false)
            } else {
                for k in series.indices where !failed.contains(k) {
                    do { matrices[k] = try Connectivity.measure(series[k], kind: kind, estimator: estimator).storage } catch {
                        try fail(k, "\(kind.rawValue): \(error)")
                    }
                    progress.advance(failed: failed.contains(k))
                }
            }
            try FMRICollection.removeIfPresent(connectivity, kind.rawValue)
            let dataset = try connectivity.write(kind.rawValue, matrices.flatMap { $0 }, shape: [series.count, r, r])
            try dataset.setAttribute("estimator", .string(estimator.rawValue))
            if configuration.vectorize ?? false {
                let discard = configuration.discardDiagonal ?? false
                let vectors = matrices.map { Connectivity.vectorize(Matrix(rows: r, columns: r, storage: $0), discardDiagonal: discard) }
                let name = kind.rawValue + "_vectorized"
                try FMRICollection.removeIfPresent(connectivity, name)
                let v = try connectivity.write(name, vectors.flatMap { $0 }, shape: [series.count, vectors.first?.count ?? 0])
                try v.setAttribute("discard_diagonal", .int(discard ? 1 : 0))
            }
        }
        if let window = configuration.window {
            let step = configuration.step ?? 1
            try FMRICollection.removeIfPresent(group, "dynamic")
            let dynamic = try group.createGroup("dynamic")
            var offsets: [Int64] = [0]
            var all: [Float] = []
            var zstd: [Double] = []
            for (k, x) in series.enumerated() {
                var windows: [[Double]] = []
                if !failed.contains(k) {
                    if x.rows < window { try fail(k, "expected at least \(window) volumes for the sliding window, found \(x.rows)") }
                    else { windows = Connectivity.slidingWindowCorrelation(x, window: window, step: step) }
                }
                for w in windows { all.append(contentsOf: w.map(Float.init)) }
                offsets.append(offsets.last! + Int64(windows.count))
                zstd.append(contentsOf: windows.isEmpty ? FMRICollection.nanMatrix(r) : Connectivity.fisherZStd(windows, regions: r))
            }
            let d = try dynamic.write("correlation", all, shape: [Int(offsets.last!), r, r])
            try d.setAttribute("window", .int(Int64(window)))
            try d.setAttribute("step", .int(Int64(step)))
            _ = try dynamic.write("correlation_offsets", offsets, shape: [offsets.count])
            _ = try dynamic.write("fisher_z_std", zstd, shape: [series.count, r, r])
            try dynamic.setAttribute("window", .int(Int64(window)))
            try dynamic.setAttribute("step", .int(Int64(step)))
        }
        progress.finish()
        return CollectionStageResult(done: series.count - failed.count, failed: failed.count)
    }
}
