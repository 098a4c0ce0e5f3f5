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

    @Option(help: "Cα radius-graph cutoff in Å (pairs with distance ≤ cutoff); 0 disables the graph.")
    var radius: Double = 8

    @Option(help: "Neighbours per residue in the Cα kNN table; 0 disables it.")
    var knn: Int = 10

    @Option(help: "Altloc used for N, CA, C, CB: first, occupancy (highest) or last (foldseek's createdb).")
    var altloc: AltlocPolicy = .first

    @Flag(help: "Every model of multi-model files (ids <file>:<model>:<chain>) instead of the first.")
    var allModels = false

    @Option(help: "Chains with fewer residues are reported as failures (foldseek skips chains of ≤ 3).")
    var minLength: Int = 4

    @Option(help: "Graphs per chain (chain-local indices, the default) or over each file's whole complex (indices into the file's written chains concatenated in order; each item gets complex_offset).")
    var graphScope: GraphScope = .chain

    @Option(help: "pLDDT threshold (0–100): writes tokens_3di_masked, the 3Di string with the letters of residues below it as '#' (SaProt), and reads pLDDT from every file (ModelCIF _ma_qa_metric_local, else the CA B-factor) even when it is not detected as predicted.")
    var plddtMask: Double?

    @Flag(inversion: .prefixedNo, help: "DSSP secondary structure in /proteins/dssp (mkdssp 4.2.2's letters; about a quarter of the time per file).")
    var dssp = true

    @Option(help: "Files processed at once.")
    var jobs: Int = 1

    @OptionGroup var global: GlobalOptions

    func validate() throws {
        if input.isEmpty == (inputList == nil) { throw ValidationError("expected exactly one of --input (files, folders, patterns) or --input-list (a file of paths)") }
        if !(radius >= 0 && radius.isFinite) { throw ValidationError("--radius: expected a cutoff ≥ 0 Å, found \(radius)") }
        if knn < 0 { throw ValidationError("--knn: expected k ≥ 0, found \(knn)") }
        if minLength < 1 { throw ValidationError("--min-length: expected a positive number, found \(minLength)") }
        if jobs < 1 { throw ValidationError("--jobs: expected a positive number, found \(jobs)") }
        if let plddtMask, !(plddtMask.isFinite && plddtMask >= 0 && plddtMask <= 100) {
            throw ValidationError("--plddt-mask: expected a pLDDT threshold in 0…100, found \(plddtMask)")
        }
    }

    func run() throws {
        global.apply()
        let configuration = ProteinTokenizeStage.Configuration(radius: radius, knn: knn, altloc: altloc, allModels: allModels, minLength: minLength,
                                                                graphScope: graphScope, plddtMask: plddtMask, dssp: dssp)
        try runStageCommand(AnyStage(ProteinTokenizeStage(configuration)), inputs: input, inputList: inputList, output: output, jobs: jobs, global: global,
                            extensions: ProteinTokenizeStage.extensions)
    }
}

extension AltlocPolicy: ExpressibleByArgument {}
extension GraphScope: ExpressibleByArgument {}

extension ProteinTokenizeCommand: DeclaresStartupNeeds {
    var startupNeeds: StartupNeeds { ProteinTokenizeStage.startupNeeds }
}
