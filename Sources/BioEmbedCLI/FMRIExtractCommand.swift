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

    @Option(help: .parameter("atlas", of: Configuration.self))
    var atlas: String?

    @Option(help: .parameter("maps", of: Configuration.self))
    var maps: String?

    @Option(help: .parameter("strategy", of: Configuration.self))
    var strategy: String?

    @Option(help: .parameter("motion", of: Configuration.self))
    var motion: String?

    @Option(name: .customLong("wm-csf"), help: .parameter("wm_csf", of: Configuration.self))
    var wmCSF: String?

    @Option(help: .parameter("global_signal", of: Configuration.self))
    var globalSignal: String?

    @Option(help: .parameter("compcor", of: Configuration.self))
    var compcor: String?

    @Option(help: .parameter("n_compcor", of: Configuration.self))
    var nCompcor: Int?

    @Option(help: .parameter("scrub", of: Configuration.self))
    var scrub: Int?

    @Option(help: .parameter("fd_threshold", of: Configuration.self))
    var fdThreshold: Double?

    @Option(name: .customLong("std-dvars-threshold"), help: .parameter("std_dvars_threshold", of: Configuration.self))
    var stdDVARSThreshold: Double?

    @Option(help: .parameter("ica_aroma", of: Configuration.self))
    var icaAroma: String?

    @Flag(inversion: .prefixedNo, help: .parameter("demean", of: Configuration.self))
    var demean = ConfoundModel().demean

    @Flag(inversion: .prefixedNo, help: .parameter("standardize_confounds", of: Configuration.self))
    var standardizeConfounds = Configuration.defaultStandardizeConfounds

    @Option(help: .parameter("preset", of: Configuration.self))
    var preset: String?

    @Option(name: .customLong("t-r"), help: .parameter("t_r", of: Configuration.self))
    var tR: Double?

    @Option(help: .parameter("high_pass", of: Configuration.self))
    var highPass: Double?

    @Option(help: .parameter("low_pass", of: Configuration.self))
    var lowPass: Double?

    @Flag(inversion: .prefixedNo, help: .parameter("detrend", of: Configuration.self))
    var detrend = Configuration.defaultDetrend

    @Option(help: .parameter("standardize", of: Configuration.self))
    var standardize = Configuration.defaultStandardize

    @Option(help: .parameter("filter", of: Configuration.self))
    var filter = Configuration.defaultFilter

    @Flag(inversion: .prefixedNo, help: .parameter("raw", of: Configuration.self))
    var raw = Configuration.defaultRaw

    typealias Configuration = FMRIExtractStage.Configuration

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
            fdThreshold: fdThreshold, stdDVARSThreshold: stdDVARSThreshold, icaAroma: icaAroma, demean: demean ? nil : false, preset: preset, tR: tR,
            highPass: highPass, lowPass: lowPass, detrend: detrend, standardize: standardize,
            standardizeConfounds: standardizeConfounds ? nil : false, filter: filter, raw: raw)
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
