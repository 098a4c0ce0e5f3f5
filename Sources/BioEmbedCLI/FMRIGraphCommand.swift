import ArgumentParser
import BioEmbedCore
import BioEmbedNeuro
import BioEmbedPipeline

/// `bioembed fmri graph`: the `fmri_graph` collection stage.
struct FMRIGraphCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "graph",
        abstract: "connectivity/<kind> -> proportional threshold (bctpy) -> degree, triangles, clustering, strength.",
        discussion: """
            Keeps the round_half_up((n^2 - n) x density / 2) strongest signed edges (bctpy
            threshold_proportional); --absolute ranks by |w|. --partition gives Newman's Q per subject.

            Examples:
              bioembed fmri graph --input fmri.h5 --output fmri.h5
              bioembed fmri graph --input fc.h5 --kind partial-correlation --density 0.2 --output graphs.h5
            """)

    @Option(help: "The file with /fmri/connectivity (from fmri connectivity).")
    var input: String

    @Option(help: .parameter("kind", of: Configuration.self))
    var kind = Configuration.defaultKind

    @Option(help: .parameter("density", of: Configuration.self))
    var density = Configuration.defaultDensity

    @Flag(help: .parameter("absolute", of: Configuration.self))
    var absolute = false

    @Option(help: .parameter("partition", of: Configuration.self))
    var partition: String?

    typealias Configuration = FMRIGraphStage.Configuration

    @Option(help: "The HDF5 file to write (may equal --input).")
    var output: String

    @OptionGroup var global: GlobalOptions

    func run() throws {
        global.apply()
        var labels: [Int64]?
        if let partition {
            labels = try partition.split(separator: ",").map { part in
                guard let v = Int64(part.trimmingCharacters(in: .whitespaces)) else {
                    throw ValidationError("--partition: expected comma-separated integers, found '\(part)'")
                }
                return v
            }
        }
        let configuration = FMRIGraphStage.Configuration(kind: kind.rawValue, density: density, absolute: absolute, partition: labels)
        try runCollectionCommand(AnyCollectionStage(FMRIGraphStage(configuration)), input: input, output: output, global: global) {
            try configuration.validate()
        }
    }
}

extension FMRIGraphCommand: DeclaresStartupNeeds {
    var startupNeeds: StartupNeeds { FMRIGraphStage.startupNeeds }
}
