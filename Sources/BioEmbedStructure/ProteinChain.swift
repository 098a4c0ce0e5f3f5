/// One protein chain as the encoders see it: the kept residues in file order with their backbone
/// atoms. Coordinates are `[L*3]` Å (Float64 as parsed), NaN when the atom is missing.
public struct ProteinChain: Sendable {
    /// Author chain id (may be empty).
    public var name: String
    /// Model number the chain comes from.
    public var model: Int
    public var residueNames: [PackedName] = []
    public var residueNumbers: [Int32] = []
    /// Insertion code byte per residue (0x20 when none).
    public var insertionCodes: [UInt8] = []
    public var isHetero: [Bool] = []
    /// The `StructureModel` residue each residue came from.
    public var residueIndices: [Int32] = []
    /// Whether the residue had atoms with an altloc.
    public var hadAltloc: [Bool] = []
    /// One-letter codes (foldseek's table, `X` unknown).
    public var sequence: [UInt8] = []
    public var n: [Double] = []
    public var ca: [Double] = []
    public var c: [Double] = []
    public var cb: [Double] = []
    /// The B-factor of each residue's CA atom (the picked altloc), or its ModelCIF local pLDDT
    /// (`StructureModel.confidenceSource`); NaN when absent.
    public var caBFactor: [Float] = []

    public init(name: String, model: Int) {
        self.name = name
        self.model = model
    }

    public var count: Int { residueNumbers.count }

    /// Room for `residues` residues in every table.
    public mutating func reserveCapacity(_ residues: Int) {
        residueNames.reserveCapacity(residues)
        residueNumbers.reserveCapacity(residues)
        insertionCodes.reserveCapacity(residues)
        isHetero.reserveCapacity(residues)
        residueIndices.reserveCapacity(residues)
        hadAltloc.reserveCapacity(residues)
        sequence.reserveCapacity(residues)
        n.reserveCapacity(residues * 3)
        ca.reserveCapacity(residues * 3)
        c.reserveCapacity(residues * 3)
        cb.reserveCapacity(residues * 3)
        caBFactor.reserveCapacity(residues)
    }

    public var sequenceString: String { String(decoding: sequence, as: UTF8.self) }
}
