/// RDKit's view of one atom (after sanitization), as E3FP's `rdkit_invariants` read it.
public struct RDKitAtom: Sendable, Equatable {
    public var atomicNumber: Int
    /// Neighbours including hydrogens (`GetTotalDegree`).
    public var totalDegree: Int
    /// Implicit plus explicit hydrogens (`GetTotalNumHs()`).
    public var totalHydrogens: Int
    public var formalCharge: Int
    public var isotope: Int
    /// `int(mass − standard atomic weight)`, truncated toward zero.
    public var deltaMass: Int
    public var isInRing: Bool
    public var isAromatic: Bool
}
