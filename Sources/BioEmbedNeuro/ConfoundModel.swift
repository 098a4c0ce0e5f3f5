import BioEmbedCore
import Foundation

/// Which confounds to take from an fMRIPrep table: the parameters of nilearn's
/// `interfaces.fmriprep.load_confounds` (`strategy`, `motion`, `wm_csf`, `global_signal`,
/// `compcor`, `n_compcor`, `demean`), with the 6p/9p/24p/36p presets as shorthands.
///
/// Selection follows nilearn: `basic` = the base columns, `power2` adds `_power2`, `derivatives`
/// adds `_derivative1`, `full` adds both plus `_derivative1_power2`; `high_pass` takes the
/// `cosine*` columns; `compcor` takes `a_comp_cor_*` (`anat_combined`, `anat_separated`) or
/// `t_comp_cor_*` (`temporal`), `w_comp_cor_*`/`c_comp_cor_*` (fMRIPrep ≥ 21, `anat_separated`), the
/// first `n_compcor` of each group in the order of their number (see `compcorGroups`). Columns come out sorted by
/// name (as nilearn's data frame); `n/a` cells are back-filled from the next row (the first row of
/// derivative columns takes the second row's value), then each column is demeaned.
/// The sample mask is nilearn's too: volumes flagged by fMRIPrep's `non_steady_state_outlier*`
/// columns (always) and, with `scrub`, volumes whose framewise displacement exceeds `fd_threshold`
/// or whose standardized DVARS exceeds `std_dvars_threshold`, plus segments shorter than `scrub`
/// volumes between them (`scrubbedVolumes`). Demeaning then uses the kept volumes' means.
/// `ica_aroma`: `basic` takes every column whose name contains `aroma` (fMRIPrep's
/// `aroma_motion_*`, the noise components); `full` takes none and requires the BOLD image to be
/// fMRIPrep's non-aggressively denoised `*_desc-smoothAROMAnonaggr_bold` (`checkImage`), as nilearn.
public struct ConfoundModel: Sendable, Hashable, Codable {
    public var strategy: [String]
    public var motion: String
    public var wmCSF: String
    public var globalSignal: String
    public var compcor: String
    /// `nil` = all components.
    public var nCompcor: Int?
    public var demean: Bool
    /// `scrub`: the shortest segment of kept volumes between censored ones (0: no segment rule).
    public var scrub: Int
    /// `scrub`: framewise displacement (mm) above which a volume is censored.
    public var fdThreshold: Double
    /// `scrub`: standardized DVARS above which a volume is censored.
    public var stdDVARSThreshold: Double
    /// `ica_aroma`: `full` (a denoised image, no regressors) or `basic` (the AROMA noise columns).
    public var icaAroma: String

    /// nilearn's defaults: strategy (motion, high_pass, wm_csf), motion full, wm_csf basic,
    /// global_signal basic, compcor anat_combined, all components, demean, scrub 5, fd_threshold
    /// 0.5, std_dvars_threshold 1.5, ica_aroma full.
    public init(
        strategy: [String] = ["motion", "high_pass", "wm_csf"], motion: String = "full", wmCSF: String = "basic",
        globalSignal: String = "basic", compcor: String = "anat_combined", nCompcor: Int? = nil, demean: Bool = true,
        scrub: Int = 5, fdThreshold: Double = 0.5, stdDVARSThreshold: Double = 1.5, icaAroma: String = "full"
    ) {
        self.icaAroma = icaAroma
        self.scrub = scrub
        self.fdThreshold = fdThreshold
        self.stdDVARSThreshold = stdDVARSThreshold
        self.strategy = strategy
        self.motion = motion
        self.wmCSF = wmCSF
        self.globalSignal = globalSignal
        self.compcor = compcor
        self.nCompcor = nCompcor
        self.demean = demean
    }

    /// A preset: `6p` (motion basic), `9p` (+ wm_csf, global_signal basic), `24p` (motion full),
    /// `36p` (motion, wm_csf, global_signal full).
    public static func preset(_ name: String) throws(NeuroError) -> ConfoundModel {
        switch name.lowercased() {
        case "6p": return ConfoundModel(strategy: ["motion"], motion: "basic")
        case "9p": return ConfoundModel(strategy: ["motion", "wm_csf", "global_signal"], motion: "basic", wmCSF: "basic", globalSignal: "basic")
        case "24p": return ConfoundModel(strategy: ["motion"], motion: "full")
        case "36p": return ConfoundModel(strategy: ["motion", "wm_csf", "global_signal"], motion: "full", wmCSF: "full", globalSignal: "full")
        default: throw .invalidParameter(name: "preset", expected: presets.joined(separator: ", "), found: "'\(name)'")
        }
    }

    public static let presets = ["6p", "9p", "24p", "36p"]
    static let knownStrategies = ["motion", "high_pass", "wm_csf", "global_signal", "compcor", "ica_aroma", "scrub", "non_steady_state"]
    static let icaAromaChoices = ["full", "basic"]
    /// The name part nilearn requires of the BOLD image for `ica_aroma: full`.
    static let aromaImageMarker = "_desc-smoothAROMAnonaggr_bold"
    static let levels = ["basic", "power2", "derivatives", "full"]

    /// Checks names before any file is read.
    public func validate() throws(NeuroError) {
        for s in strategy where !Self.knownStrategies.contains(s) {
            throw .invalidParameter(name: "strategy", expected: "names from \(Self.knownStrategies.joined(separator: ", "))", found: "'\(s)'")
        }
        for (name, level) in [("motion", motion), ("wm_csf", wmCSF), ("global_signal", globalSignal)] where !Self.levels.contains(level) {
            throw .invalidParameter(name: name, expected: Self.levels.joined(separator: ", "), found: "'\(level)'")
        }
        if !Self.icaAromaChoices.contains(icaAroma) {
            throw .invalidParameter(name: "ica_aroma", expected: Self.icaAromaChoices.joined(separator: " or "), found: "'\(icaAroma)'")
        }
        if Self.compcorGroups[compcor] == nil {
            throw .invalidParameter(name: "compcor", expected: Self.compcorChoices.joined(separator: ", "), found: "'\(compcor)'")
        }
        // nilearn's refusal: fMRIPrep's CompCor components are computed after its high-pass filter
        if strategy.contains("compcor") && !strategy.contains("high_pass") {
            throw .invalidParameter(name: "strategy", expected: "high_pass with compcor (fMRIPrep's CompCor assumes its cosine high-pass, as nilearn requires)", found: strategy.joined(separator: ","))
        }
        guard scrub >= 0 else { throw .invalidParameter(name: "scrub", expected: "a segment length of 0 or more volumes", found: "\(scrub)") }
        for (name, value) in [("fd_threshold", fdThreshold), ("std_dvars_threshold", stdDVARSThreshold)] where !value.isFinite {
            throw .invalidParameter(name: name, expected: "a finite threshold", found: "\(value)")
        }
    }

    /// nilearn's refusal for `ica_aroma: full`: the image must be fMRIPrep's AROMA-denoised one.
    public func checkImage(_ bold: String) throws(NeuroError) {
        guard strategy.contains("ica_aroma"), icaAroma == "full" else { return }
        let name = (bold as NSString).lastPathComponent
        guard name.contains(Self.aromaImageMarker) else {
            throw .invalidInput(
                file: bold, expected: "an image named *\(Self.aromaImageMarker).nii[.gz] for ica_aroma full (fMRIPrep --use-aroma; nilearn refuses other inputs), or ica_aroma basic",
                found: "'\(name)'")
        }
    }

    /// The volumes to keep, as nilearn's `load_confounds` returns them (`sample_mask`): nil when
    /// nothing is censored (no non-steady-state columns, no scrubbing), else the ascending indices
    /// of the volumes that no outlier column flags (empty when every volume is flagged).
    public func sampleMask(in table: ConfoundsTable, volumes: Int) throws(NeuroError) -> [Int]? {
        var flagged = [Bool](repeating: false, count: volumes)
        var outlierColumns = 0
        for name in table.names where name.contains("non_steady_state") {
            outlierColumns += 1
            for (t, value) in (table.columns[name] ?? []).prefix(volumes).enumerated() where value != 0 { flagged[t] = true }
        }
        if strategy.contains("scrub") {
            for name in ["framewise_displacement", "std_dvars"] where table.columns[name] == nil {
                throw .invalidInput(file: table.file, expected: "a column '\(name)' for the scrub strategy", found: "none")
            }
            let fd = table.columns["framewise_displacement"]!, dvars = table.columns["std_dvars"]!
            // NaN (the first row's n/a) is never above a threshold
            let outliers = (0..<volumes).filter { fd[$0] > fdThreshold || dvars[$0] > stdDVARSThreshold }
            let censored = scrub > 0 && !outliers.isEmpty ? Self.scrubbedVolumes(outliers, volumes: volumes, segment: scrub) : outliers
            outlierColumns += censored.count
            for t in censored { flagged[t] = true }
        }
        guard outlierColumns > 0 else { return nil }
        return (0..<volumes).filter { !flagged[$0] }
    }

    /// nilearn's `optimize_scrub`, step by step: volumes before the first outlier and after the
    /// last one are censored when fewer than `segment` remain there, then every run of kept
    /// volumes between two outliers shorter than `segment + 1` apart.
    static func scrubbedVolumes(_ outliers: [Int], volumes: Int, segment: Int) -> [Int] {
        var index = outliers
        if index[0] < segment { index = Array(0..<index[0]) + index }
        if volumes - (index.last! + 1) < segment { index += Array(index.last!..<volumes) }
        let count = index.count
        for k in 0..<(count - 1) {
            let gap = index[k + 1] - index[k]
            if gap > 1 && gap < segment + 1 { index += Array((index[k] + 1)..<index[k + 1]) }
        }
        return Array(Set(index)).sorted()
    }

    /// Each compcor choice's components: (column prefix, the sidecar JSON's `Mask` or nil for any),
    /// as nilearn 0.14 reads them. fMRIPrep 1.4–20 writes anatomical components of every mask as
    /// `a_comp_cor_*` (the JSON tells the mask); fMRIPrep ≥ 21 writes WM and CSF ones as
    /// `w_comp_cor_*` and `c_comp_cor_*`. `temporal_anat` is the older name of `temporal_anat_combined`.
    static let compcorGroups: [String: [(prefix: String, mask: String?)]] = {
        let temporal = [(prefix: "t_comp_cor_", mask: String?.none)]
        let combined = [(prefix: "a_comp_cor_", mask: String?("combined"))]
        let separated: [(prefix: String, mask: String?)] = [("a_comp_cor_", "WM"), ("a_comp_cor_", "CSF"), ("w_comp_cor_", nil), ("c_comp_cor_", nil)]
        return ["anat_combined": combined, "anat_separated": separated, "temporal": temporal,
                "temporal_anat_combined": temporal + combined, "temporal_anat": temporal + combined,
                "temporal_anat_separated": temporal + separated]
    }()
    static let compcorChoices = ["anat_combined", "anat_separated", "temporal", "temporal_anat_combined", "temporal_anat_separated", "temporal_anat"]

    /// Selected column names (sorted) of `table`, or an error naming the first missing column.
    public func columnNames(in table: ConfoundsTable) throws(NeuroError) -> [String] {
        try validate()
        var wanted: [String] = []
        func expand(_ bases: [String], _ level: String) {
            for b in bases {
                wanted.append(b)
                if level == "power2" || level == "full" { wanted.append(b + "_power2") }
                if level == "derivatives" || level == "full" { wanted.append(b + "_derivative1") }
                if level == "full" { wanted.append(b + "_derivative1_power2") }
            }
        }
        if strategy.contains("motion") { expand(["trans_x", "trans_y", "trans_z", "rot_x", "rot_y", "rot_z"], motion) }
        if strategy.contains("wm_csf") { expand(["csf", "white_matter"], wmCSF) }
        if strategy.contains("global_signal") { expand(["global_signal"], globalSignal) }
        for name in wanted where table.columns[name] == nil {
            throw .invalidInput(
                file: table.file, expected: "a column '\(name)' for the requested confound strategy",
                found: "columns \(table.names.prefix(12).joined(separator: ", "))\(table.names.count > 12 ? ", ..." : "")")
        }
        if strategy.contains("high_pass") {
            wanted += table.names.filter { $0.hasPrefix("cosine") }
        }
        if strategy.contains("ica_aroma") && icaAroma == "basic" {
            let aroma = table.names.filter { $0.contains("aroma") }
            guard !aroma.isEmpty else {
                throw .invalidInput(file: table.file, expected: "'aroma_motion_XX' columns for ica_aroma basic (fMRIPrep --use-aroma)", found: "none")
            }
            wanted += aroma
        }
        if strategy.contains("compcor") {
            if compcor.contains("anat") && !table.hasSidecar {
                throw .invalidInput(
                    file: table.file, expected: "its JSON sidecar \(ConfoundsTable.sidecarPath(table.file)) (anatomical CompCor needs the components' masks, fMRIPrep ≥ 1.4; nilearn refuses too)",
                    found: "none")
            }
            // `n_compcor` applies to each group. Components are taken in the order of their number
            // (a_comp_cor_2 before a_comp_cor_10 and a_comp_cor_100), as nilearn lists them.
            var selected: [String] = []
            for (prefix, mask) in Self.compcorGroups[compcor] ?? [] {
                var found = table.names.filter { $0.hasPrefix(prefix) && Int($0.dropFirst(prefix.count)) != nil }
                    .sorted { Int($0.dropFirst(prefix.count))! < Int($1.dropFirst(prefix.count))! }
                if let mask, !table.compcorMasks.isEmpty {
                    // fMRIPrep 1.4–20 mixes CSF, WM and combined components under a_comp_cor_: the JSON says which.
                    found = found.filter { table.compcorMasks[$0] == mask }
                }
                if let n = nCompcor { found = Array(found.prefix(n)) }
                selected += found
            }
            if selected.isEmpty {
                let prefixes = Set((Self.compcorGroups[compcor] ?? []).map(\.prefix)).sorted().map { "'\($0)XX'" }
                throw .invalidInput(file: table.file, expected: "\(prefixes.joined(separator: " or ")) columns for compcor '\(compcor)'", found: "none")
            }
            wanted += selected
        }
        return Array(Set(wanted)).sorted()
    }

    /// The confounds matrix `[T, K]` (row-major) for `volumes` time points, and its column names.
    ///
    /// - Throws: `NeuroError.invalidInput` when the row count differs from `volumes`, a column is
    ///   missing, or a column is entirely `n/a`.
    public func matrix(from table: ConfoundsTable, volumes: Int) throws(NeuroError) -> (values: [Double], names: [String], sampleMask: [Int]?) {
        guard table.rowCount == volumes else {
            throw .invalidInput(file: table.file, expected: "\(volumes) rows (one per BOLD volume)", found: "\(table.rowCount) rows")
        }
        let names = try columnNames(in: table)
        let mask = try sampleMask(in: table, volumes: volumes)
        let meanRows = mask ?? Array(0..<volumes)
        let k = names.count
        var out = [Double](repeating: 0, count: volumes * k)
        for (c, name) in names.enumerated() {
            var column = table.columns[name] ?? []
            // Back-fill n/a from the next defined value; trailing n/a take the last defined value.
            var next = Double.nan
            for t in stride(from: volumes - 1, through: 0, by: -1) {
                if column[t].isNaN { column[t] = next } else { next = column[t] }
            }
            var last = Double.nan
            for t in 0..<volumes { if column[t].isNaN { column[t] = last } else { last = column[t] } }
            if column.contains(where: { !$0.isFinite }) {
                throw .invalidInput(file: table.file, expected: "numbers in column '\(name)'", found: "only n/a or non-finite values")
            }
            if demean, !meanRows.isEmpty {
                // with a sample mask, the mean of the kept volumes (nilearn's `_demean_confounds`)
                let mean = meanRows.reduce(0) { $0 + column[$1] } / Double(meanRows.count)
                for t in 0..<volumes { column[t] -= mean }
            }
            for t in 0..<volumes { out[t * k + c] = column[t] }
        }
        return (out, names, mask)
    }
}
