import ArgumentParser
import BioEmbedCore
import BioEmbedNeuro
import BioEmbedPipeline
import Foundation

/// `bioembed fmri extract`: the `fmri_extract` stage on BOLD files given on the command line.
struct FMRIExtractCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "extract",
        abstract: "BOLD runs (NIfTI, CIFTI-2, GIFTI) + atlas (+ confounds) -> cleaned region time series in /fmri (nilearn's labels maskers + signal.clean).",
        discussion: """
            Confound options mean what nilearn's load_confounds means by them. Without --confounds, a
            strategy or preset reads the fMRIPrep *_desc-confounds_timeseries.tsv next to each BOLD file.
            The same stage as `stage: fmri_extract` in a pipeline file (manifest columns bold, confounds).

            Examples:
              bioembed fmri extract --bold examples/fmri/sub-01 --atlas examples/fmri/atlas_labels.nii.gz \\
                  --preset 36p --high-pass 0.01 --low-pass 0.1 --output out/fmri.h5
              bioembed fmri extract --bids derivatives/fmriprep --space MNI152NLin2009cAsym --task rest \\
                  --atlas schaefer400.nii.gz --strategy motion,high_pass,scrub --output fmri.h5
              bioembed fmri extract --bold sub-01_task-rest_space-fsLR_den-91k_bold.dtseries.nii \\
                  --atlas Schaefer400.32k_fs_LR.dlabel.nii --strategy motion,wm_csf --output cifti.h5
              bioembed fmri extract --bold func/sub-01_task-rest_hemi-L_space-fsaverage5_bold.func.gii \\
                  --atlas lh.schaefer400.label.gii --t-r 2 --output surface.h5
              bioembed fmri extract --bold run1.nii.gz run2.nii.gz --confounds c1.tsv c2.tsv \\
                  --atlas schaefer400.nii.gz --strategy motion,wm_csf --motion basic --t-r 0.72 --output fmri.h5
            """)

    @Option(name: .long, parsing: .upToNextOption, help: "BOLD files (NIfTI .nii/.nii.gz, CIFTI-2 .dtseries.nii, GIFTI .func.gii: one hemisphere's file names both), folders (searched for *bold.nii[.gz], *bold.dtseries.nii, *bold.func.gii) or glob patterns.")
    var bold: [String] = []

    @Option(help: "An fMRIPrep output folder instead of --bold: every preprocessed run with its confounds, sidecar, brain mask and TR.")
    var bids: String?

    @Option(help: "--bids: the output space (e.g. MNI152NLin2009cAsym); required when runs exist in several.")
    var space: String?

    @Option(help: "--bids: only runs of this task.")
    var task: String?

    @Option(help: "--bids: the desc entity of the BOLD files (default preproc).")
    var desc: String = "preproc"

    @Option(name: .long, parsing: .upToNextOption, help: "--bids: only these participants (01 or sub-01).")
    var participant: [String] = []

    @Option(name: .long, parsing: .upToNextOption, help: "--bids: only these sessions.")
    var session: [String] = []

    @Option(name: .long, parsing: .upToNextOption, help: "Confounds TSVs, one per BOLD file in the same order.")
    var confounds: [String] = []

    @Option(help: "Label atlas, 0 = background: a 3D NIfTI image (resampled to the data grid, nearest, when grids differ), a CIFTI-2 .dlabel.nii (first map; grayordinates matched by structure and vertex or voxel), or GIFTI .label.gii (one hemisphere's file names both). Its format must match the BOLD files'.")
    var atlas: String?

    @Option(help: "Probabilistic maps (4D, on the data grid) instead of --atlas: least-squares signals.")
    var maps: String?

    @Option(help: "Comma-separated load_confounds strategy: motion,high_pass,wm_csf,global_signal,compcor,ica_aroma,scrub (non-steady-state volumes are always censored).")
    var strategy: String?

    @Option(help: "basic|power2|derivatives|full (load_confounds' motion).")
    var motion: String?

    @Option(name: .customLong("wm-csf"), help: "basic|power2|derivatives|full.")
    var wmCSF: String?

    @Option(help: "basic|power2|derivatives|full.")
    var globalSignal: String?

    @Option(help: "anat_combined|anat_separated|temporal|temporal_anat_combined|temporal_anat_separated (temporal_anat = temporal_anat_combined).")
    var compcor: String?

    @Option(help: "Number of CompCor components (default: all).")
    var nCompcor: Int?

    @Option(help: "scrub: censor kept segments shorter than this many volumes between outliers (nilearn default 5; 0: off).")
    var scrub: Int?

    @Option(help: "scrub: framewise displacement threshold in mm (default 0.5).")
    var fdThreshold: Double?

    @Option(name: .customLong("std-dvars-threshold"), help: "scrub: standardized DVARS threshold (default 1.5).")
    var stdDVARSThreshold: Double?

    @Option(help: "ica_aroma: full (the input is fMRIPrep's *_desc-smoothAROMAnonaggr_bold; no regressors) or basic (the aroma_motion_* columns).")
    var icaAroma: String?

    @Flag(help: "Keep the confounds' means (load_confounds demean=False).")
    var noDemean = false

    @Flag(help: "Do not z-score the confounds before regressing them out (signal.clean standardize_confounds=False).")
    var noStandardizeConfounds = false

    @Option(help: "6p|9p|24p|36p (shorthand for strategy + levels).")
    var preset: String?

    @Option(name: .customLong("t-r"), help: "Repetition time in seconds (default: pixdim[4] of the header, then the sidecar JSON).")
    var tR: Double?

    @Option(help: "High-pass cut-off in Hz (removes slower signals).")
    var highPass: Double?

    @Option(help: "Low-pass cut-off in Hz.")
    var lowPass: Double?

    @Flag(help: "Skip linear detrending.")
    var noDetrend = false

    @Option(help: "zscore-sample|none.")
    var standardize: String = "zscore-sample"

    @Option(help: "butterworth|cosine (cosine: DCT high-pass regressors, as nilearn's filter=\"cosine\").")
    var filter: String = "butterworth"

    @Flag(inversion: .prefixedNo, help: "Also write raw_timeseries (before cleaning).")
    var raw = true

    @Option(help: "The HDF5 file to write (replaced when complete).")
    var output: String

    @Option(help: "Subjects processed at once.")
    var jobs: Int = 1

    @OptionGroup var global: GlobalOptions

    func validate() throws {
        if jobs < 1 { throw ValidationError("--jobs: expected a positive number, found \(jobs)") }
        if bold.isEmpty == (bids == nil) { throw ValidationError("expected exactly one of --bold (files) or --bids (an fMRIPrep folder)") }
        if bids != nil && !confounds.isEmpty { throw ValidationError("--confounds goes with --bold; --bids finds each run's confounds") }
    }

    var stageConfiguration: FMRIExtractStage.Configuration {
        FMRIExtractStage.Configuration(
            atlas: atlas, maps: maps, strategy: strategy.map { $0.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) } },
            motion: motion, wmCSF: wmCSF, globalSignal: globalSignal, compcor: compcor, nCompcor: nCompcor, scrub: scrub,
            fdThreshold: fdThreshold, stdDVARSThreshold: stdDVARSThreshold, icaAroma: icaAroma, demean: noDemean ? false : nil, preset: preset, tR: tR,
            highPass: highPass, lowPass: lowPass, detrend: !noDetrend, standardize: standardize,
            standardizeConfounds: noStandardizeConfounds ? false : nil, filter: filter, raw: raw)
    }

    func run() throws {
        global.apply()
        let configuration = stageConfiguration
        let summary = try reportingErrors { () throws -> StageSummary in
            try configuration.validate()
            // A missing or unreadable atlas is a usage error: nothing is written. Read once, here,
            // and kept by the stage for every run.
            let extract = FMRIExtractStage(configuration)
            _ = try extract.collectionArrays()
            var items: [ManifestItem]
            if let bids {
                items = try BIDSDerivatives(root: bids, space: space, task: task, desc: desc, participants: participant, sessions: session).items()
            } else {
                items = FMRIRunID.shorten(FMRIRunID.oneItemPerRun(try InputDiscovery.items(bold, extensions: FMRIRunID.boldSuffixes)))
            }
            if !confounds.isEmpty {
                guard confounds.count == items.count else {
                    throw NeuroError.invalidParameter(name: "confounds", expected: "one TSV per BOLD file (\(items.count))", found: "\(confounds.count)")
                }
                items = zip(items, confounds).map { item, tsv in
                    var fields = item.fields
                    fields["confounds"] = tsv
                    return ManifestItem(id: item.id, index: item.index, line: item.line, fields: fields, baseDirectory: item.baseDirectory)
                }
            }
            let stage = AnyStage(extract)
            let options = RunOptions(jobs: jobs, threads: global.threads, progress: global.progressMode, command: commandLineText)
            let lock = try OutputLock(forOutput: output)
            defer { withExtendedLifetime(lock) {} }
            return try StageExecutor.execute(stage, items: items, output: output, options: options)
        }
        let run = RunSummary(stages: [summary])
        report(run)
        if run.exitCode != 0 { throw ExitCode(run.exitCode) }
    }
}

extension FMRIExtractCommand: DeclaresStartupNeeds {
    var startupNeeds: StartupNeeds { FMRIExtractStage.startupNeeds }
}
