import CRDKitShim

/// A molecule parsed by Debian's RDKit 2022.09.3 through the C shim; everything is copied out.
///
/// Parsing follows `SDMolSupplier` defaults (sanitize, remove hydrogens). Chemistry perception
/// (sanitization, aromaticity, canonical ranking) is RDKit's: nothing here re-implements it.
/// Atoms, bonds and coordinates are given in SMILES output order (atom `i` is the `i`-th atom
/// written in `smiles`), i.e. after the reference's `RenumberAtoms(mol, order)`; bonds keep their
/// aromatic type (E3FP sees code 4).
public struct RDKitMolecule: Sendable, Equatable {
    /// Kekulé canonical SMILES (`MolToSmiles(mol, kekuleSmiles=True)`).
    public let smiles: String
    /// `_smilesAtomOutputOrder`: the input atom index written at each SMILES position.
    public let atomOutputOrder: [Int]
    public let atomCount: Int
    /// Per-atom properties, SMILES output order.
    public let atoms: [RDKitAtom]
    /// Every bond, endpoints in SMILES output order.
    public let bonds: [RDKitBond]
    /// Conformer-0 coordinates (Å), `[atomCount * 3]` row-major, SMILES output order; empty when
    /// the record has no conformer.
    public let coordinates: [Double]
    /// 3 when RDKit marks the conformer 3D, 2 when 2D (a "2D" header, or no dimension code and all
    /// z = 0), 0 without a conformer.
    public let conformerDimension: Int

    /// Parses one MOL block (V2000 or V3000).
    ///
    /// - Throws: `MoleculeError.rdkit` with RDKit's message (naming `file` and `record`).
    public init(molBlock: String, file: String = "<memory>", record: Int = 0) throws(MoleculeError) {
        RDKit.configureLoggingOnce()
        guard let handle = berd_mol_from_molblock(molBlock, 1, 1) else {
            throw MoleculeError.rdkit(file: file, record: record, message: "out of memory")
        }
        defer { berd_mol_free(handle) }
        guard berd_mol_ok(handle) != 0 else {
            throw MoleculeError.rdkit(file: file, record: record, message: String(cString: berd_mol_error(handle)))
        }
        smiles = String(cString: berd_mol_smiles(handle))
        atomCount = Int(berd_mol_atom_count(handle))
        let n = berd_mol_output_order(handle, nil, 0)
        var order = [Int32](repeating: 0, count: Int(n))
        _ = berd_mol_output_order(handle, &order, n)
        atomOutputOrder = order.map(Int.init)

        var rawAtoms = [BERDAtom](repeating: BERDAtom(), count: Int(n))
        let atomsWritten = berd_mol_atoms(handle, &rawAtoms, n)
        guard atomsWritten == n else {
            throw MoleculeError.rdkit(file: file, record: record, message: "RDKit failed while reading atom properties")
        }
        atoms = rawAtoms.map {
            RDKitAtom(
                atomicNumber: Int($0.atomic_num), totalDegree: Int($0.total_degree), totalHydrogens: Int($0.total_num_hs),
                formalCharge: Int($0.formal_charge), isotope: Int($0.isotope), deltaMass: Int($0.delta_mass),
                isInRing: $0.in_ring != 0, isAromatic: $0.is_aromatic != 0)
        }
        let bondCount = berd_mol_bonds(handle, nil, 0)
        guard bondCount >= 0 else {
            throw MoleculeError.rdkit(file: file, record: record, message: "RDKit failed while reading bonds")
        }
        var rawBonds = [BERDBond](repeating: BERDBond(), count: Int(bondCount))
        _ = berd_mol_bonds(handle, &rawBonds, bondCount)
        bonds = rawBonds.map { RDKitBond(begin: Int($0.begin), end: Int($0.end), code: Int($0.code)) }

        conformerDimension = Int(berd_mol_conformer_dimension(handle))
        if conformerDimension > 0 {
            var xyz = [Double](repeating: 0, count: 3 * Int(n))
            let written = berd_mol_coords(handle, &xyz, 3 * n)
            guard written == 3 * n else {
                throw MoleculeError.rdkit(file: file, record: record, message: "RDKit failed while reading coordinates")
            }
            coordinates = xyz
        } else {
            coordinates = []
        }
    }
}
