import ArgumentParser
import BioEmbedCore
import BioEmbedNeuro
import BioEmbedPipeline

/// `bioembed fmri factorize`: the `fmri_factorize` collection stage (non-negative CP of the
/// sliding-window connectivity tensor).
struct FMRIFactorizeCommand: ParsableCommand {
    typealias Parameters = FMRIDynamicCPStage.Configuration

    static let configuration = CommandConfiguration(
        commandName: "factorize",
        abstract: "Sliding-window connectivity -> non-negative CP (PARAFAC) factors (tensorly's non_negative_parafac_hals).",
        discussion: """
            Needs /fmri/dynamic/correlation (fmri connectivity --window W --step S). Writes
            /fmri/dynamic/cp: window_factors [windows, rank], row_factors and column_factors
            [fits, regions, rank], reconstruction_error and iterations per fit.

            Examples:
              bioembed fmri connectivity --input fmri.h5 --window 30 --step 5 --output fmri.h5
              bioembed fmri factorize --input fmri.h5 --rank 10 --output fmri.h5
              bioembed fmri factorize --input fmri.h5 --rank 8 --scope group --values absolute --output cp.h5
            """)

    @Option(help: "The file with /fmri/dynamic (from fmri connectivity --window).")
    var input: String

    @Option(help: "Number of components.")
    var rank = Parameters.defaultRank

    @Option(help: "subject: one fit per subject (map); group: one fit of all subjects' windows (reduce).")
    var scope: Parameters.Scope = .subject

    @Option(help: "Negative correlations before the fit: positive (set to 0), absolute, or raw (kept).")
    var values: Parameters.Values = .positive

    @Option(help: "The diagonal (self-correlation 1): zero or keep.")
    var diagonal: Parameters.Diagonal = .zero

    @Option(help: "Most ALS iterations per fit.")
    var maxIterations = Parameters.defaultMaxIterations

    @Option(help: "Stop when the relative reconstruction error changes by less than this (0: run every iteration).")
    var tolerance = Parameters.defaultTolerance

    @Option(help: "Seed of the initial factors (uniform in [0, 1)).")
    var seed: UInt64 = 0

    @Option(help: "The HDF5 file to write (may equal --input).")
    var output: String

    @OptionGroup var global: GlobalOptions

    func run() throws {
        global.apply()
        let parameters = Parameters(rank: rank, scope: scope, values: values, diagonal: diagonal, maxIterations: maxIterations,
                                    tolerance: tolerance, seed: seed)
        do { try parameters.validate() } catch { throw ValidationError(error.description) }
        try runCollectionCommand(AnyCollectionStage(FMRIDynamicCPStage(parameters)), input: input, output: output, global: global) {}
    }
}

extension FMRIFactorizeCommand: DeclaresStartupNeeds {
    var startupNeeds: StartupNeeds { FMRIDynamicCPStage.startupNeeds }
}

extension FMRIDynamicCPStage.Configuration.Scope: ExpressibleByArgument {}
extension FMRIDynamicCPStage.Configuration.Values: ExpressibleByArgument {}
extension FMRIDynamicCPStage.Configuration.Diagonal: ExpressibleByArgument {}
