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

    @Option(help: "Truncate ids to this length as the 3D-MolT5 fine-tuning scripts do (keep N-1, then </s>); default: none.")
    var maxLength: Int?

    @Option(help: "Id of <bom> (the reference code builds 35045; see docs/molecule-ids.md).")
    var bomId: Int = 35045

    @Option(help: "Id of <eom> (the reference code builds 35044).")
    var eomId: Int = 35044

    @Option(help: "A SELFIES dictionary file (one token per line, id 32100 + line); default: the bundled 3D-MolT5 one.")
    var vocab: String?

    @Option(help: "Items processed at once (the records of one file are split across them).")
    var jobs: Int = 1

    @Option(help: "Plain .sdf files with more records are processed (and resumed) in parts of this many, so memory is bounded by the part.")
    var recordsPerItem: Int = 2048

    @Option(help: "SMILES inputs: RDKit randomSeed of the ETKDGv3 embedding (a fixed seed reproduces the coordinates).")
    var seed: Int = ConformerEmbedding().seed

    @Option(help: "SMILES inputs: conformers per molecule (ids <id>#c<k>).")
    var conformers: Int = ConformerEmbedding().conformers

    @Flag(help: "SMILES inputs: optimize each conformer with MMFF94 (200 iterations).")
    var mmff = false

    @Option(help: "SMILES inputs: ETKDG embedding attempts (maxIterations); 0: RDKit's default.")
    var embedAttempts: Int = ConformerEmbedding().attempts

    @Option(help: "SMILES inputs: seconds one molecule may take to embed; 0: no limit.")
    var embedTimeout: Double = ConformerEmbedding().timeout

    @Option(help: "CSV/TSV inputs: the SMILES column (default: smiles, SMILES, canonical_smiles or isomeric_smiles).")
    var smilesColumn: String?

    @Option(help: "CSV/TSV inputs: the id column (default: id or name; without one, ids are <file>#<row>).")
    var idColumn: String?

    @OptionGroup var global: GlobalOptions

    var embedding: ConformerEmbedding {
        ConformerEmbedding(seed: seed, conformers: conformers, mmff: mmff, attempts: embedAttempts, timeout: embedTimeout)
    }

    func validate() throws {
        if input.isEmpty == (inputList == nil) { throw ValidationError("expected exactly one of --input (files, folders, patterns) or --input-list (a file of paths)") }
        if let maxLength, maxLength < 2 { throw ValidationError("--max-length: expected at least 2, found \(maxLength)") }
        if jobs < 1 { throw ValidationError("--jobs: expected a positive number, found \(jobs)") }
        if let problem = embedding.problem { throw ValidationError("--" + problem.replacingOccurrences(of: "_", with: "-")) }
        if recordsPerItem < 1 { throw ValidationError("--records-per-item: expected a positive number, found \(recordsPerItem)") }
        for (flag, value) in [("--bom-id", bomId), ("--eom-id", eomId)] where value < 0 || value > Int(Int32.max) {
            throw ValidationError("\(flag): expected a token id in 0...\(Int32.max), found \(value)")
        }
    }

    func run() throws {
        global.apply()
        let stage = AnyStage(MoleculeTokenizeStage(.init(maxLength: maxLength, bomID: bomId, eomID: eomId, vocab: vocab, recordsPerItem: recordsPerItem,
                                                                  embedding: embedding, smilesColumn: smilesColumn, idColumn: idColumn)))
        try runStageCommand(stage, inputs: input, inputList: inputList, output: output, jobs: jobs, global: global, extensions: MoleculeTokenizeStage.extensions)
    }
}

extension MoleculeTokenizeCommand: DeclaresStartupNeeds {
    var startupNeeds: StartupNeeds { MoleculeTokenizeStage.startupNeeds }
}
