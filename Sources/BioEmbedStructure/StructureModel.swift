/// A parsed structure file as struct-of-arrays tables (like biotite's `AtomArray`), produced by
/// both the PDB and the mmCIF reader.
///
/// Hierarchy: models → chains → residues → atoms. Chains of one model are unique by author
/// chain id (parts of a chain split by other chains are merged, in order of first appearance, as
/// gemmi's `merge_chain_parts`). A residue is one (sequence number, insertion code, name) of a
/// chain; its atoms are `residueAtoms[residueAtomOffsets[r] ..< residueAtomOffsets[r+1]]` in file
/// order (all altlocs kept). Coordinates are in Å as written in the file.
public struct StructureModel: Sendable {
    /// Model numbers in file order (`MODEL` serial, `pdbx_PDB_model_num`, 1 when absent).
    public var modelNumbers: [Int] = []
    /// Per model: its chains `modelChainOffsets[m] ..< modelChainOffsets[m+1]`.
    public var modelChainOffsets: [Int] = [0]

    // Chains
    /// Author chain id (may be empty).
    public var chainNames: [String] = []
    /// Per chain: its residues `chainResidueOffsets[c] ..< chainResidueOffsets[c+1]`.
    public var chainResidueOffsets: [Int] = [0]

    // Residues
    public var residueNames: [PackedName] = []
    public var residueNumbers: [Int32] = []
    /// Insertion code byte (0x20 when none).
    public var insertionCodes: [UInt8] = []
    /// Whether the residue came from HETATM records.
    public var isHetero: [Bool] = []
    /// Whether the residue's atoms named CA are all not carbon (PDB: an element column saying so,
    /// or, without one, a name starting in column 13, which gemmi reads as calcium). gemmi's polymer
    /// heuristics then do not count the residue as one with a Cα. Always false for mmCIF.
    public var caIsNotCarbon: [Bool] = []
    /// Whether the residue's first atom came from neither an ATOM nor a HETATM record (an mmCIF
    /// `group_PDB` with another value; gemmi leaves its record type unset and foldseek's rules skip it).
    public var isOtherRecord: [Bool] = []
    /// Entity type (`EntityType`) after the reader's rules.
    public var entityTypes: [EntityType] = []
    /// Whether `entityTypes` come from the file's own `_entity` table (mmCIF) rather than from
    /// `TER` records and heuristics.
    public var entitiesFromFile = false
    /// Where `bFactors` come from: the B-factor column, or (ModelCIF files with a local pLDDT
    /// metric) each residue's `_ma_qa_metric_local` value on all of its atoms.
    public var confidenceSource: ConfidenceSource = .bFactor
    /// Whether the file says it holds a predicted model (`PredictedModel.detect`).
    public var isPredicted = false
    /// PDB `SEQRES`: per chain id (one character, blank as ""), the residue names of its sequence.
    public var sequenceResidueNames: [String: [PackedName]] = [:]
    /// PDB: per chain id named by a `TER` record (column 22, blank as ""), how many residues of that
    /// chain the first model had before its first `TER` (libcifpp's polymer end, which mkdssp reads).
    public var residuesBeforeTer: [String: Int] = [:]
    public var residueAtomOffsets: [Int] = [0]

    // Atoms (ordered by residue, file order inside a residue)
    public var atomNames: [PackedName] = []
    /// Altloc byte (0 when none).
    public var altlocs: [UInt8] = []
    public var occupancies: [Float] = []
    /// B-factor (`B_iso_or_equiv`, PDB columns 61–66; NaN when absent), which predicted structures
    /// (AlphaFold, ESMFold, ColabFold) use for the per-residue pLDDT; see `confidenceSource`.
    public var bFactors: [Float] = []
    public var x: [Double] = []
    public var y: [Double] = []
    public var z: [Double] = []
    /// 1-based source line of each atom (for messages).
    public var atomLines: [Int32] = []

    /// Number of models read (with only the first model requested, readers stop at the second:
    /// then 1 even when the file holds more).
    public var modelCountInFile: Int = 0

    public init() {}

    public var chainCount: Int { chainNames.count }
    public var residueCount: Int { residueNames.count }
    public var atomCount: Int { atomNames.count }
}
