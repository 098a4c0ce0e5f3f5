import BioEmbedCore
import BioEmbedHDF5
import BioEmbedLinalg
import Foundation

/// `fmri spectral`: ALFF / fALFF per region (FFTW; see `SpectralMeasures`) of `/fmri/raw_timeseries`
/// (the unfiltered series; `timeseries` when absent or with `source: timeseries`) →
/// `/fmri/spectral/{alff, falff}` `[S, R]`, attrs `low`, `high`, `source`.
public struct FMRISpectralStage: CollectionStage {
    public struct Configuration: StageConfiguration {
        public var low: Double?
        public var high: Double?
        public var source: String?

        public static let defaultLow = 0.01
        public static let defaultHigh = 0.08
        /// The series the measures may be computed from.
        public static let sources = ["raw_timeseries", "timeseries"]
        public static let parameters = [
            StageParameter("low", .number, default: defaultLow, unit: "Hz", help: "Lower band edge."),
            StageParameter("high", .number, default: defaultHigh, unit: "Hz", help: "Upper band edge."),
            StageParameter("source", .text, allowed: sources, help: "The series: raw_timeseries (unfiltered, linearly detrended here; the default when present) or timeseries (cleaned)."),
        ]

        public init(low: Double? = nil, high: Double? = nil, source: String? = nil) {
            self.low = low
            self.high = high
            self.source = source
        }
    }

    public static let name = "fmri_spectral"
    public static let startupNeeds: StartupNeeds = .blas
    /// 2: results in a nested collection (own ids, failed subjects absent), layout bioembed/fmri/2.
    public static let version = 2
    public static let summary = "Region time series -> ALFF and fALFF per region (FFTW)"
    public static let inputCollection = "fmri"
    public static let outputSchema = BioEmbedVersion.schema(of: "fmri")

    public let configuration: Configuration
    public init(_ configuration: Configuration) { self.configuration = configuration }

    public func run(input: HDF5File, output: HDF5File, errors: ErrorLog, context: CollectionStageContext) throws -> CollectionStageResult {
        let (low, high) = (configuration.low ?? Configuration.defaultLow, configuration.high ?? Configuration.defaultHigh)
        if let source = configuration.source { try Configuration.parameter("source").check(source) }
        guard low >= 0, high > low else {
            throw NeuroError.invalidParameter(name: "high", expected: "a band edge above low (\(low) Hz)", found: "\(high) Hz")
        }
        let fmri = try input.root.group("fmri")
        let name = configuration.source ?? (fmri.contains("raw_timeseries") ? "raw_timeseries" : "timeseries")
        guard fmri.contains(name) else {
            throw NeuroError.invalidInput(file: input.path, expected: "/fmri/\(name)", found: "none")
        }
        let (ids, series) = try FMRICollection.timeSeries(input, dataset: name)
        let tr: [Double] = try fmri.dataset("t_r").read()
        let r = series.first?.columns ?? 0
        let earlier = EarlierRows(context.reuse, stage: Self.name, collection: "spectral", ids: ids, datasets: ["alff", "falff"].map { .init(path: "spectral/" + $0, rowLength: r) })
        var alff: [Double] = [], falff: [Double] = []
        var written: [String] = []
        var failed = 0, cached = 0
        for (k, x) in series.enumerated() {
            if let a = earlier.row(ids[k], "spectral/alff"), let f = earlier.row(ids[k], "spectral/falff") {
                alff += a
                falff += f
                written.append(ids[k])
                cached += 1
                continue
            }
            if x.storage.contains(where: { !$0.isFinite }) || !(tr[k] > 0) {
                failed += 1
                try errors.append(id: ids[k], stage: Self.name, category: .badInput, message: "\(input.path): /fmri \(ids[k]): expected finite series and TR, found NaN/Inf or TR \(tr[k])")
                continue
            }
            let m = SpectralMeasures.alff(x, tR: tr[k], low: low, high: high)
            alff += m.alff
            falff += m.falff
            written.append(ids[k])
        }
        let group = try FMRICollection.outputGroup(input: input, output: output)
        try FMRICollection.removeIfPresent(group, "spectral")
        let spectral = try group.createGroup("spectral")
        try FMRICollection.writeIDs(written, to: spectral)
        _ = try spectral.write("alff", alff, shape: [written.count, r])
        _ = try spectral.write("falff", falff, shape: [written.count, r])
        try spectral.setAttribute("low", .double(low))
        try spectral.setAttribute("high", .double(high))
        try spectral.setAttribute("source", .string(name))
        return CollectionStageResult(done: series.count - failed - cached, failed: failed, cached: cached)
    }
}
