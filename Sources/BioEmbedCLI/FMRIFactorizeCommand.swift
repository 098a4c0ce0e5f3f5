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

    @Option(help: .parameter("rank", of: Parameters.self))
    var rank = Self.defaults.rank

    @Option(help: .parameter("scope", of: Parameters.self))
    var scope = Self.defaults.scope

    @Option(help: .parameter("values", of: Parameters.self))
    var values = Self.defaults.values

    @Option(help: .parameter("diagonal", of: Parameters.self))
    var diagonal = Self.defaults.diagonal

    @Option(help: .parameter("max_iterations", of: Parameters.self))
    var maxIterations = Self.defaults.maxIterations

    @Option(help: .parameter("tolerance", of: Parameters.self))
    var tolerance = Self.defaults.tolerance

    @Option(help: .parameter("seed", of: Parameters.self))
    var seed = Self.defaults.seed

    private static let defaults = Parameters()

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
