import BioEmbedCore
import BioEmbedLinalg
import Foundation

/// `fmri extract`: BOLD runs → region time series (raw and cleaned) in `/fmri`.
///
/// Per manifest row: the BOLD file (column `bold`, else `path`), optionally a confounds TSV
/// (column `confounds`; else, when a confound strategy or preset is set, the fMRIPrep sibling
/// `*_desc-confounds_timeseries.tsv`). The atlas (`atlas`, labels) or probabilistic maps (`maps`)
/// are parameters shared by all rows, so every subject has the same columns (`/fmri/region_ids`).
/// Cleaning is `nilearn.signal.clean` (see `SignalCleaner`); confounds are selected as nilearn's
/// `load_confounds` selects them (see `ConfoundModel`).
///
/// TR: the `t_r` parameter, else `pixdim[4]` of the header, else `RepetitionTime` of the BIDS
/// sidecar JSON; a run without any fails with a message saying so.
public struct FMRIExtractStage: Stage {
    public struct Configuration: StageConfiguration {
        public var atlas: String?
        public var maps: String?
        public var strategy: [String]?
        public var motion: String?
        public var wmCSF: String?
        public var globalSignal: String?
        public var compcor: String?
        public var nCompcor: Int?
        public var scrub: Int?
        public var fdThreshold: Double?
        public var stdDVARSThreshold: Double?
        public var icaAroma: String?
        public var demean: Bool?
        public var preset: String?
        public var tR: Double?
        public var highPass: Double?
        public var lowPass: Double?
        public var detrend: Bool?
        public var standardize: String?
        public var standardizeConfounds: Bool?
        public var filter: String?
        public var raw: Bool?

        enum CodingKeys: String, CodingKey {
            case atlas, maps, strategy, motion, compcor, preset, detrend, standardize, filter, raw
            case wmCSF = "wm_csf", globalSignal = "global_signal", nCompcor = "n_compcor", tR = "t_r", scrub, demean
            case fdThreshold = "fd_threshold", stdDVARSThreshold = "std_dvars_threshold", icaAroma = "ica_aroma"
            case highPass = "high_pass", lowPass = "low_pass", standardizeConfounds = "standardize_confounds"
        }

        /// Cleaning defaults (nilearn's `signal.clean`); confound defaults are `ConfoundModel`'s (load_confounds').
        public static let defaultStandardize = "zscore-sample"
        public static let standardizeChoices = [defaultStandardize, "none"]
        public static let defaultFilter = "butterworth"
        public static let filterChoices = [defaultFilter, "cosine"]
        public static let defaultDetrend = true
        public static let defaultStandardizeConfounds = true
        public static let defaultRaw = true

        public static let parameters: [StageParameter] = {
            let nilearn = ConfoundModel()
            let level = "Default (when the strategy has it): "
            return [
                StageParameter("atlas", .file, help: "Label atlas, 0 = background: a 3D NIfTI image (resampled to the data grid, nearest, when grids differ), a CIFTI-2 .dlabel.nii (first map; grayordinates matched by structure and vertex or voxel), or GIFTI .label.gii (one hemisphere's file names both). Its format must match the BOLD files'. Exactly one of atlas or maps."),
                StageParameter("maps", .file, help: "Probabilistic maps (4D, on the data grid) instead of atlas: least-squares signals."),
                StageParameter("strategy", .list, allowed: ConfoundModel.knownStrategies, help: "load_confounds strategy (on the CLI comma-separated; non-steady-state volumes are always censored). Default with no strategy and no preset: no confounds; with only levels set: \(nilearn.strategy.joined(separator: ", ")) (nilearn's)."),
                StageParameter("motion", .text, allowed: ConfoundModel.levels, help: "load_confounds' motion. \(level)\(nilearn.motion)."),
                StageParameter("wm_csf", .text, allowed: ConfoundModel.levels, help: "load_confounds' wm_csf. \(level)\(nilearn.wmCSF)."),
                StageParameter("global_signal", .text, allowed: ConfoundModel.levels, help: "load_confounds' global_signal. \(level)\(nilearn.globalSignal)."),
                StageParameter("compcor", .text, allowed: ConfoundModel.compcorChoices, help: "CompCor variant (temporal_anat = temporal_anat_combined). \(level)\(nilearn.compcor)."),
                StageParameter("n_compcor", .integer, help: "Number of CompCor components. Default: all."),
                StageParameter("scrub", .integer, unit: "volumes", help: "scrub: censor kept segments shorter than this between outliers (0: off). \(level)\(nilearn.scrub)."),
                StageParameter("fd_threshold", .number, unit: "mm", help: "scrub: framewise displacement threshold. \(level)\(nilearn.fdThreshold)."),
                StageParameter("std_dvars_threshold", .number, help: "scrub: standardized DVARS threshold. \(level)\(nilearn.stdDVARSThreshold)."),
                StageParameter("ica_aroma", .text, allowed: ConfoundModel.icaAromaChoices, help: "ica_aroma: full (the input is fMRIPrep's *_desc-smoothAROMAnonaggr_bold; no regressors) or basic (the aroma_motion_* columns). \(level)\(nilearn.icaAroma)."),
                StageParameter("demean", .boolean, default: nilearn.demean, help: "Subtract the confounds' means (load_confounds demean)."),
                StageParameter("preset", .text, allowed: ConfoundModel.presets, help: "Shorthand for strategy + levels (6p: motion basic; 9p: + wm_csf, global_signal basic; 24p: motion full; 36p: motion, wm_csf, global_signal full)."),
                StageParameter("t_r", .number, unit: "s", help: "Repetition time. Default: pixdim[4] of the header, then the sidecar JSON."),
                StageParameter("high_pass", .number, unit: "Hz", help: "High-pass cut-off (removes slower signals). Default: none."),
                StageParameter("low_pass", .number, unit: "Hz", help: "Low-pass cut-off. Default: none."),
                StageParameter("detrend", .boolean, default: defaultDetrend, help: "Remove linear trends (signal.clean detrend)."),
                StageParameter("standardize", .text, default: defaultStandardize, allowed: standardizeChoices, help: "Standardize the cleaned series (signal.clean standardize)."),
                StageParameter("standardize_confounds", .boolean, default: defaultStandardizeConfounds, help: "z-score the confounds before regressing them out (signal.clean standardize_confounds)."),
                StageParameter("filter", .text, default: defaultFilter, allowed: filterChoices, help: "Temporal filter (cosine: DCT high-pass regressors, as nilearn's filter=\"cosine\")."),
                StageParameter("raw", .boolean, default: defaultRaw, help: "Also write raw_timeseries (before cleaning)."),
            ]
        }()

        public init(
            atlas: String? = nil, maps: String? = nil, strategy: [String]? = nil, motion: String? = nil, wmCSF: String? = nil,
            globalSignal: String? = nil, compcor: String? = nil, nCompcor: Int? = nil, scrub: Int? = nil, fdThreshold: Double? = nil,
            stdDVARSThreshold: Double? = nil, icaAroma: String? = nil, demean: Bool? = nil, preset: String? = nil, tR: Double? = nil,
            highPass: Double? = nil, lowPass: Double? = nil, detrend: Bool? = nil, standardize: String? = nil,
            standardizeConfounds: Bool? = nil, filter: String? = nil, raw: Bool? = nil
        ) {
            self.atlas = atlas
            self.maps = maps
            self.strategy = strategy
            self.motion = motion
            self.wmCSF = wmCSF
            self.globalSignal = globalSignal
            self.compcor = compcor
            self.nCompcor = nCompcor
            self.scrub = scrub
            self.fdThreshold = fdThreshold
            self.stdDVARSThreshold = stdDVARSThreshold
            self.icaAroma = icaAroma
            self.demean = demean
            self.preset = preset
            self.tR = tR
            self.highPass = highPass
            self.lowPass = lowPass
            self.detrend = detrend
            self.standardize = standardize
            self.standardizeConfounds = standardizeConfounds
            self.filter = filter
            self.raw = raw
        }

        /// The confound model, or nil when no confounds were asked for (no strategy, no preset).
        public func confoundModel() throws(NeuroError) -> ConfoundModel? {
            var model: ConfoundModel
            if let preset { model = try ConfoundModel.preset(preset) }
            else if strategy != nil || motion != nil || wmCSF != nil || globalSignal != nil || compcor != nil { model = ConfoundModel() }
            else { return nil }
            if let strategy { model.strategy = strategy }
            if let motion { model.motion = motion }
            if let wmCSF { model.wmCSF = wmCSF }
            if let globalSignal { model.globalSignal = globalSignal }
            if let compcor { model.compcor = compcor }
            if let nCompcor { model.nCompcor = nCompcor }
            if let scrub { model.scrub = scrub }
            if let fdThreshold { model.fdThreshold = fdThreshold }
            if let stdDVARSThreshold { model.stdDVARSThreshold = stdDVARSThreshold }
            if let icaAroma { model.icaAroma = icaAroma }
            if let demean { model.demean = demean }
            try model.validate()
            return model
        }

        public func cleanParameters() throws(NeuroError) -> CleanParameters {
            var p = CleanParameters(detrend: detrend ?? Self.defaultDetrend, highPass: highPass, lowPass: lowPass)
            switch standardize ?? Self.defaultStandardize {
            case "zscore-sample", "zscore_sample": p.standardize = .zscoreSample
            case "none", "false": p.standardize = .none
            case let other: throw .invalidParameter(name: "standardize", expected: Self.standardizeChoices.joined(separator: " or "), found: "'\(other)'")
            }
            switch filter ?? Self.defaultFilter {
            case "butterworth": p.filter = .butterworth
            case "cosine": p.filter = .cosine
            case let other: throw .invalidParameter(name: "filter", expected: Self.filterChoices.joined(separator: " or "), found: "'\(other)'")
            }
            p.standardizeConfounds = standardizeConfounds ?? Self.defaultStandardizeConfounds
            for (name, value) in [("high_pass", highPass), ("low_pass", lowPass), ("t_r", tR)] {
                if let value, !(value > 0 && value.isFinite) {
                    throw .invalidParameter(name: name, expected: "a positive number", found: "\(value)")
                }
            }
            if let h = highPass, let l = lowPass, p.filter == .butterworth, h >= l {
                throw .invalidParameter(name: "high_pass", expected: "a value below low_pass (\(l) Hz)", found: "\(h) Hz")
            }
            return p
        }

        /// Checks everything that does not need a file.
        public func validate() throws(NeuroError) {
            if (atlas == nil) == (maps == nil) {
                throw .invalidParameter(name: "atlas", expected: "exactly one of atlas (labels) or maps (probabilistic)", found: atlas == nil ? "neither" : "both")
            }
            _ = try confoundModel()
            _ = try cleanParameters()
        }
    }

    public static let name = "fmri_extract"
    public static let startupNeeds: StartupNeeds = .blas
    public static let version = 1
    public static let collection = "fmri"
    public static let summary = "BOLD runs (NIfTI, CIFTI-2, GIFTI) + atlas (+ fMRIPrep confounds) -> nilearn-exact cleaned region time series"

    public let configuration: Configuration
    private let regions: RegionCache

    public init(_ configuration: Configuration) {
        self.configuration = configuration
        regions = RegionCache(configuration)
    }

    public var requiredColumns: [String] { [] }

    public var fields: [FieldSpec] {
        let r = (try? regions.regionIDs())?.count ?? 0
        var f = [
            FieldSpec("t_r", .float64, .perItem(rowShape: [])),
            FieldSpec("timeseries", .float64, .ragged(offsets: "timeseries_offsets", rowShape: [r])),
            // the sample mask: the BOLD volume of each row (censored volumes are absent)
            FieldSpec("volume_index", .int32, .ragged(offsets: "timeseries_offsets", rowShape: [])),
        ]
        if configuration.raw ?? Configuration.defaultRaw { f.append(FieldSpec("raw_timeseries", .float64, .ragged(offsets: "timeseries_offsets", rowShape: [r]))) }
        return f
    }

    public var collectionAttributes: [String: MetadataValue] {
        let masker = (try? regions.load().masker) ?? (configuration.atlas != nil ? "labels" : "maps")
        var a: [String: MetadataValue] = ["masker": .string(masker)]
        if let atlas = configuration.atlas { a["atlas"] = .string(atlas) }
        if let maps = configuration.maps { a["maps"] = .string(maps) }
        return a
    }

    public func collectionArrays() throws -> [String: FieldData] {
        ["region_ids": .int64(try regions.regionIDs())]
    }

    /// The BOLD file and everything read with it: the other hemisphere (GIFTI), the confounds
    /// (given or the fMRIPrep sibling) and their JSON sidecar, the brain mask, the BOLD sidecar (TR).
    public func inputFiles(for item: ManifestItem) -> [String: String] {
        guard let bold = item.path("bold") ?? item.path("path") else { return [:] }
        var files = [item.path("bold") == nil ? "path" : "bold": bold]
        if Parcellation.Format(path: bold) == .gifti, let pair = try? Hemispheres.files(bold), pair.count == 2 {
            files["hemisphere"] = pair[0] == bold ? pair[1] : pair[0]
        }
        if let confounds = item.path("confounds") ?? ConfoundsTable.sibling(ofBold: bold) {
            files["confounds"] = confounds
            let sidecar = (confounds as NSString).deletingPathExtension + ".json"
            if FileManager.default.fileExists(atPath: sidecar) { files["confounds sidecar"] = sidecar }
        }
        if let mask = item.path("mask") { files["mask"] = mask }
        for sidecar in FMRIExtractor.sidecars(of: bold) where FileManager.default.fileExists(atPath: sidecar) {
            files["sidecar " + (sidecar as NSString).lastPathComponent] = sidecar
        }
        return files
    }

    public func process(_ item: ManifestItem, context: StageContext) throws -> ItemRecord {
        try configuration.validate()
        guard let bold = item.path("bold") ?? item.path("path") else {
            throw NeuroError.invalidInput(file: "manifest line \(item.line)", expected: "a 'bold' (or 'path') column", found: "none")
        }
        // a BIDS run with a missing companion file (see `BIDSDerivatives`)
        if let problem = item.fields["problem"], !problem.isEmpty {
            throw NeuroError.invalidInput(file: bold, expected: "a complete fMRIPrep run", found: problem)
        }
        let result = try FMRIExtractor.run(
            bold: bold, confounds: item.path("confounds"), mask: item.path("mask"), configuration: configuration, regions: regions)
        var values: [String: FieldData] = [
            "t_r": .float64([result.tR]),
            "timeseries": .float64(result.cleaned.storage),
            "volume_index": .int32(result.volumes.map(Int32.init)),
        ]
        if configuration.raw ?? Configuration.defaultRaw { values["raw_timeseries"] = .float64(result.raw.storage) }
        return ItemRecord(id: item.id, values: values)
    }
}
