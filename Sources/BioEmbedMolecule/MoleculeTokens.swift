/// Everything the 3D-MolT5 tokenization produces for one molecule (molt5.md §2–3).
public struct MoleculeTokens: Sendable, Equatable {
    /// Kekulé canonical SMILES (RDKit 2022.09).
    public var smiles: String
    /// `_smilesAtomOutputOrder`.
    public var atomOrder: [Int]
    public var selfies: String
    public var selfiesTokens: [String]
    /// Per atom (SMILES order), the SELFIES token that produced it.
    public var atomTokenIndex: [Int]
    /// Sorted folded E3FP on-bits.
    public var e3fpBits: [Int32]
    /// `[atoms, 4]` shell identifiers (0 = none) and folded tokens (-1 = none), row-major.
    public var atomIdentifiers: [Int64]
    public var atomTokens: [Int32]
    /// `[T, 4]` 3D tokens per SELFIES token, row-major (-1 = none).
    public var fpRows: [Int32]
    /// `<bom> SELFIES <eom> </s>` ids, unpadded (`[T + 3]`), and their `[T + 3, 4]` 3D rows.
    public var inputIDs: [Int32]
    public var fpTokens: [Int32]
    public var levelsRun: Int
    public var remapped: Int
    public var unmerged: Int
    /// Conformer coordinates (Å, SMILES order), `[atoms * 3]`.
    public var coordinates: [Double]
}
