import BioEmbedLinalg
import Foundation

/// One run through `fmri extract`: extraction, confound loading, cleaning.
enum FMRIExtractor {
    struct Output {
        var tR: Double
        /// The raw region means of the kept volumes.
        var raw: Matrix<Double>
        var cleaned: Matrix<Double>
        /// The volume each row of `raw` and `cleaned` comes from (all of them without a sample mask).
        var volumes: [Int]
    }

    /// - Parameter mask: a brain mask (nonzero = brain): label voxels outside it are left out of the
    ///   region means, as nilearn's `NiftiLabelsMasker(mask_img=)` does.
    static func run(bold: String, confounds: String?, mask: String? = nil, configuration c: FMRIExtractStage.Configuration, regions: RegionCache) throws(NeuroError) -> Output {
        let parameters = try c.cleanParameters()
        let model = try c.confoundModel()
        try model?.checkImage(bold)
        let parcellation = try regions.load()
        let format = Parcellation.Format(path: bold)
        guard format == parcellation.boldFormat else {
            throw NeuroError.invalidInput(
                file: bold, expected: "a \(parcellation.boldFormat.rawValue) run for the \(parcellation.masker) atlas",
                found: "a \(format.rawValue) file (BOLD and atlas must be both NIfTI, both GIFTI or both CIFTI-2)")
        }
        let signals: Matrix<Double>
        var fileTR: Double?
        switch parcellation {
        case let .volume(atlas):
            let header: NIfTIHeader
            (signals, header) = try RegionExtractor.labels(bold: bold, atlas: atlas, mask: try mask.map { path throws(NeuroError) in try LabelAtlas(path) })
            fileTR = header.repetitionTime
        case let .maps(maps, _):
            let header: NIfTIHeader
            (signals, header) = try RegionExtractor.maps(bold: bold, maps: maps)
            fileTR = header.repetitionTime
        case let .surface(atlas):
            signals = try RegionExtractor.surface(bold: bold, atlas: atlas)
        case let .cifti(atlas):
            (signals, fileTR) = try RegionExtractor.cifti(bold: bold, atlas: atlas)
        }
        guard let tR = c.tR ?? fileTR ?? sidecarTR(bold) else {
            throw NeuroError.invalidInput(file: bold, expected: "a repetition time (\(format == .nifti ? "pixdim[4] > 0" : format == .cifti ? "a SeriesStep in seconds" : "GIFTI has none"), RepetitionTime in the sidecar JSON, or --t-r)", found: "none")
        }
        var confoundMatrix: Matrix<Double>?
        var sampleMask: [Int]?
        if confounds != nil || model != nil {
            guard let path = confounds ?? ConfoundsTable.sibling(ofBold: bold) else {
                throw NeuroError.invalidInput(file: bold, expected: "a confounds TSV (column 'confounds', --confounds, or an fMRIPrep *_desc-confounds_timeseries.tsv next to it)", found: "none")
            }
            let table = try ConfoundsTable.load(path)
            let (values, names, mask) = try (model ?? ConfoundModel()).matrix(from: table, volumes: signals.rows)
            confoundMatrix = Matrix(rows: signals.rows, columns: names.count, storage: values)
            sampleMask = mask
        }
        var cleaned = signals
        if signals.storage.contains(where: \.isNaN) {
            // A label without voxels on this grid: clean the other columns, keep NaN in its own.
            let good = (0..<signals.columns).filter { j in !signals.storage[j].isNaN }
            var sub = Matrix<Double>(rows: signals.rows, columns: good.count)
            for i in 0..<signals.rows { for (k, j) in good.enumerated() { sub.storage[i * good.count + k] = signals.storage[i * signals.columns + j] } }
            try SignalCleaner.clean(&sub, confounds: confoundMatrix, tR: tR, parameters: parameters, file: bold, sampleMask: sampleMask)
            cleaned = Matrix(rows: sub.rows, columns: signals.columns, repeating: .nan)
            for i in 0..<sub.rows { for (k, j) in good.enumerated() { cleaned.storage[i * signals.columns + j] = sub.storage[i * good.count + k] } }
        } else {
            try SignalCleaner.clean(&cleaned, confounds: confoundMatrix, tR: tR, parameters: parameters, file: bold, sampleMask: sampleMask)
        }
        let kept = sampleMask ?? Array(0..<signals.rows)
        return Output(tR: tR, raw: sampleMask == nil ? signals : SignalCleaner.rows(signals, kept), cleaned: cleaned, volumes: kept)
    }

    /// `RepetitionTime` from the BIDS sidecar: the name without its extension + `.json`
    /// (`_bold.nii.gz`, `_bold.dtseries.nii`, `_bold.func.gii` → `_bold.json`); surface files also
    /// `_bold.dtseries.json` / `_bold.func.json`, as some tools name them.
    static func sidecarTR(_ bold: String) -> Double? {
        sidecars(of: bold).lazy.compactMap { repetitionTime(sidecar: $0) }.first
    }

    /// The sidecar JSON names of a BOLD file, in the order they are tried.
    static func sidecars(of bold: String) -> [String] {
        let sidecars: [(extension: String, names: [String])] = [
            (".dtseries.nii", [".json", ".dtseries.json"]), (".func.gii", [".json", ".func.json"]),
            (".nii.gz", [".json"]), (".nii", [".json"]), (".gii.gz", [".json"]), (".gii", [".json"]),
        ]
        guard let match = sidecars.first(where: { bold.hasSuffix($0.extension) }) else { return [] }
        let stem = String(bold.dropLast(match.extension.count))
        return match.names.map { stem + $0 }
    }

    private static func repetitionTime(sidecar path: String) -> Double? {
        guard let data = FileManager.default.contents(atPath: path),
              let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let tr = object["RepetitionTime"] as? Double, tr > 0 else { return nil }
        return tr
    }
}
