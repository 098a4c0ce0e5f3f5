import ArgumentParser

/// `bioembed fmri ...`: the fMRI stage family.
struct FMRICommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fmri",
        abstract: "fMRI: NIfTI + atlas + fMRIPrep confounds -> nilearn-exact time series, connectivity, graphs.",
        discussion: """
            Examples:
              bioembed fmri extract --bold 'derivatives/sub-*/func/*_desc-preproc_bold.nii.gz' \\
                  --atlas atlas.nii.gz --preset 36p --high-pass 0.01 --low-pass 0.1 --output fmri.h5
              bioembed fmri connectivity --input fmri.h5 --kind correlation,tangent --output fmri.h5
              bioembed fmri graph --input fmri.h5 --density 0.1 --output fmri.h5
            """,
        subcommands: [FMRIExtractCommand.self, FMRIConnectivityCommand.self, FMRIGraphCommand.self, FMRISpectralCommand.self, FMRIFactorizeCommand.self])
}
