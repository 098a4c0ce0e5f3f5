import ArgumentParser
import BioEmbedCore
import BioEmbedPipeline
import BioEmbedStructure
import Foundation

/// `bioembed protein`: the protein structure stages.
struct ProteinCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "protein",
        abstract: "Protein structures: PDB/mmCIF chains to sequences, 3Di tokens and residue graphs.",
        subcommands: [ProteinTokenizeCommand.self])
}

/// `bioembed protein tokenize`: the `protein_tokenize` stage on files given on the command line.
struct ProteinTokenizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokenize",
        abstract: "PDB/mmCIF files (plain, .gz, or in .tar archives) → one /proteins item per chain: sequence, 3Di, DSSP, pLDDT, Cα, graphs.",
        discussion: """
            The same stage as `stage: protein_tokenize` in a pipeline file, with the same parameters as flags.
            Residues follow foldseek's createdb rules (model 1, author chain ids, polymer residues with a CA
            atom, modified residues kept, waters and ligands dropped); ids are <file>:<chain>, and
            <archive>/<member>:<chain> for the structure members of a tar archive (read in place).
            Chains shorter than --min-length fail on their own; a file that cannot be read fails as a whole
            (both listed in /errors, exit code 2) while everything else is written.

            Examples:
              bioembed protein tokenize --input examples/proteins/ --output out/proteins.h5
              bioembed protein tokenize --input 'pdb/*.cif.gz' 1abc.pdb --radius 10 --knn 16 --output p.h5
              bioembed protein tokenize --input nmr.pdb --all-models --altloc last --output nmr.h5
              bioembed protein tokenize --input complexes/ --graph-scope complex --min-length 1 --output c.h5
              bioembed protein tokenize --input afdb/ --plddt-mask 70 --output predicted.h5
              bioembed protein tokenize --input proteome-UP000005640_9606_HUMAN_v4.tar --output human.h5
            """)

    @Option(name: .long, parsing: .upToNextOption, help: "Files, folders (searched recursively) or glob patterns.")
    var input: [String] = []

    @Option(help: "A file listing one input path per line (relative to the list's folder), instead of --input: for millions of files.")
    var inputList: String?

    @Option(help: "The HDF5 file to write (replaced when complete).")
    var output: String

    @Option(help: .parameter("radius", of: Configuration.self))
    var radius = Configuration().radius

    @Option(help: .parameter("knn", of: Configuration.self))
    var knn = Configuration().knn

    @Option(help: .parameter("altloc", of: Configuration.self))
    var altloc = Configuration().altloc

    @Flag(help: .parameter("all_models", of: Configuration.self))
    var allModels = Configuration().allModels

    @Option(help: .parameter("min_length", of: Configuration.self))
    var minLength = Configuration().minLength

    @Option(help: .parameter("graph_scope", of: Configuration.self))
    var graphScope = Configuration().graphScope

    @Option(help: .parameter("plddt_mask", of: Configuration.self))
    var plddtMask: Double?

    @Flag(inversion: .prefixedNo, help: .parameter("dssp", of: Configuration.self))
    var dssp = Configuration().dssp

    @Option(help: "Files processed at once.")
    var jobs: Int = 1

    @OptionGroup var global: GlobalOptions

    func validate() throws {
        if input.isEmpty == (inputList == nil) { throw ValidationError("expected exactly one of --input (files, folders, patterns) or --input-list (a file of paths)") }
        if jobs < 1 { throw ValidationError("--jobs: expected a positive number, found \(jobs)") }
        try validating(Configuration.self) { try configuration.validate() }
    }

    typealias Configuration = ProteinTokenizeStage.Configuration

    var configuration: Configuration {
        Configuration(radius: radius, knn: knn, altloc: altloc, allModels: allModels, minLength: minLength,
                      graphScope: graphScope, plddtMask: plddtMask, dssp: dssp)
    }

    func run() throws {
        global.apply()
        try runStageCommand(AnyStage(ProteinTokenizeStage(configuration)), inputs: input, inputList: inputList, output: output, jobs: jobs, global: global,
                            extensions: ProteinTokenizeStage.extensions)
    }
}

extension AltlocPolicy: ExpressibleByArgument {}
extension GraphScope: ExpressibleByArgument {}

extension ProteinTokenizeCommand: DeclaresStartupNeeds {
    var startupNeeds: StartupNeeds { ProteinTokenizeStage.startupNeeds }
}
