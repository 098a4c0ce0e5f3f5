import ArgumentParser
import BioEmbedCore
import BioEmbedMolecule
import BioEmbedPipeline

/// `bioembed molecule tokenize`: the `molecule_tokenize` stage on files given on the command line.
struct MoleculeTokenizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokenize",
        abstract: "SDF/MOL records or SMILES (seeded RDKit conformers) → kekulé SMILES, SELFIES, E3FP bits and 3D-MolT5 input ids + 3D tokens (/molecules).",
        discussion: """
            The same stage as `stage: molecule_tokenize` in a pipeline file. Reads .sdf, .mol and .sdf.gz \
            (V2000 and V3000, several records per file) with RDKit's SDMolSupplier defaults (sanitize, \
            remove hydrogens); the 3D coordinates in the file are used as given. One item per record: \
            id `<file name>`, or `<file name>#<record>` (0-based) when the file holds several.

            A record RDKit cannot read, one without 3D coordinates (rejected), one SELFIES cannot encode \
            or with a token outside the 3D-MolT5 vocabulary is listed in /errors with its file, record and \
            line; the others are written and the exit code is 2.

            SMILES inputs (.smi: `SMILES [name]` per line; .csv/.tsv with a header, a SMILES column and \
            optional id and other columns) get RDKit ETKDGv3 conformers first, as Python's \
            AllChem.EmbedMultipleConfs(Chem.AddHs(mol), n, params) with params.randomSeed = --seed gives them \
            (same RDKit, same coordinates); each conformer is then tokenized as an SDF record, id `<id>#c<k>`. \
            A molecule without a conformer is listed in /errors saying why.

            Examples:
              bioembed molecule tokenize --input examples/molecules/ --output out/molecules.h5
              bioembed molecule tokenize --input 'library/*.sdf.gz' --max-length 128 --jobs 2 --output lib.h5
              bioembed molecule tokenize --input ligand.sdf --bom-id 35044 --eom-id 35045 --output ligand.h5
              bioembed molecule tokenize --input drugs.smi --seed 7 --conformers 3 --mmff --output drugs.h5
              bioembed molecule tokenize --input library.csv --smiles-column smiles --id-column chembl_id --output lib.h5
            """)

    @Option(name: .long, parsing: .upToNextOption, help: "SDF/MOL files (.sdf, .mol, .sdf.gz), SMILES files (.smi, .csv, .tsv), folders (searched recursively) or glob patterns.")
    var input: [String] = []

    @Option(help: "A file listing one input path per line (relative to the list's folder), instead of --input: for millions of files.")
    var inputList: String?

    @Option(help: "The HDF5 file to write (replaced when complete).")
    var output: String

    @Option(help: .parameter("max_length", of: Configuration.self))
    var maxLength: Int?

    @Option(help: .parameter("bom_id", of: Configuration.self))
    var bomId = Self.defaults.bomID

    @Option(help: .parameter("eom_id", of: Configuration.self))
    var eomId = Self.defaults.eomID

    @Option(help: .parameter("vocab", of: Configuration.self))
    var vocab: String?

    @Option(help: "Items processed at once (the records of one file are split across them).")
    var jobs: Int = 1

    @Option(help: .parameter("records_per_item", of: Configuration.self))
    var recordsPerItem = Self.defaults.recordsPerItem

    @Option(help: .parameter("seed", of: Configuration.self))
    var seed = Self.defaults.embedding.seed

    @Option(help: .parameter("conformers", of: Configuration.self))
    var conformers = Self.defaults.embedding.conformers

    @Flag(help: .parameter("mmff", of: Configuration.self))
    var mmff = Self.defaults.embedding.mmff

    @Option(help: .parameter("embed_attempts", of: Configuration.self))
    var embedAttempts = Self.defaults.embedding.attempts

    @Option(help: .parameter("embed_timeout", of: Configuration.self))
    var embedTimeout = Self.defaults.embedding.timeout

    @Option(help: .parameter("smiles_column", of: Configuration.self))
    var smilesColumn: String?

    @Option(help: .parameter("id_column", of: Configuration.self))
    var idColumn: String?

    @OptionGroup var global: GlobalOptions

    typealias Configuration = MoleculeTokenizeStage.Configuration
    private static let defaults = Configuration()

    var configuration: Configuration {
        Configuration(
            maxLength: maxLength, bomID: bomId, eomID: eomId, vocab: vocab, recordsPerItem: recordsPerItem,
            embedding: ConformerEmbedding(seed: seed, conformers: conformers, mmff: mmff, attempts: embedAttempts, timeout: embedTimeout),
            smilesColumn: smilesColumn, idColumn: idColumn)
    }

    func validate() throws {
        if input.isEmpty == (inputList == nil) { throw ValidationError("expected exactly one of --input (files, folders, patterns) or --input-list (a file of paths)") }
        if jobs < 1 { throw ValidationError("--jobs: expected a positive number, found \(jobs)") }
        try validating(Configuration.self) { try configuration.validate() }
    }

    func run() throws {
        global.apply()
        try runStageCommand(AnyStage(MoleculeTokenizeStage(configuration)), inputs: input, inputList: inputList, output: output, jobs: jobs,
                            global: global, extensions: MoleculeTokenizeStage.extensions)
    }
}

extension MoleculeTokenizeCommand: DeclaresStartupNeeds {
    var startupNeeds: StartupNeeds { MoleculeTokenizeStage.startupNeeds }
}
