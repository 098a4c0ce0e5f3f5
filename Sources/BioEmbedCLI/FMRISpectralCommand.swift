import ArgumentParser
import BioEmbedCore
import BioEmbedNeuro
import BioEmbedPipeline

/// `bioembed fmri spectral`: the `fmri_spectral` collection stage (ALFF / fALFF).
struct FMRISpectralCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "spectral",
        abstract: "/fmri time series -> ALFF and fALFF per region (FFTW; AFNI 3dRSFC definitions).",
        discussion: """
            Uses raw_timeseries (unfiltered, linearly detrended here) when present.

            Examples:
              bioembed fmri spectral --input fmri.h5 --output fmri.h5
              bioembed fmri spectral --input fmri.h5 --low 0.01 --high 0.1 --output alff.h5
            """)

    @Option(help: "The file with /fmri.")
    var input: String

    @Option(help: .parameter("low", of: Configuration.self))
    var low = Configuration.defaultLow

    @Option(help: .parameter("high", of: Configuration.self))
    var high = Configuration.defaultHigh

    @Option(help: .parameter("source", of: Configuration.self))
    var source: String?

    typealias Configuration = FMRISpectralStage.Configuration

    @Option(help: "The HDF5 file to write (may equal --input).")
    var output: String

    @OptionGroup var global: GlobalOptions

    func run() throws {
        global.apply()
        let configuration = FMRISpectralStage.Configuration(low: low, high: high, source: source)
        try runCollectionCommand(AnyCollectionStage(FMRISpectralStage(configuration)), input: input, output: output, global: global) {}
    }
}

extension FMRISpectralCommand: DeclaresStartupNeeds {
    var startupNeeds: StartupNeeds { FMRISpectralStage.startupNeeds }
}
