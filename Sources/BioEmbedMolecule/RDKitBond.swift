/// A bond between two atoms (indices in SMILES output order) with E3FP's bond code:
/// 1 single, 2 double, 3 triple, 4 aromatic, 0 any other RDKit bond type.
public struct RDKitBond: Sendable, Equatable {
    public var begin: Int
    public var end: Int
    public var code: Int
}
