import CRDKitShim

/// A molecule parsed by Debian's RDKit 2022.09.3 through the C shim; everything is copied out.
///
/// Parsing follows `SDMolSupplier` defaults (sanitize, remove hydrogens). Chemistry perception
/// (sanitization, aromaticity, canonical ranking) is RDKit's: nothing here re-implements it.
public struct RDKitMolecule: Sendable, Equatable {
    /// Kekulé canonical SMILES (`MolToSmiles(mol, kekuleSmiles=True)`).
    public let smiles: String
    /// `_smilesAtomOutputOrder`: the input atom index written at each SMILES position.
    public let atomOutputOrder: [Int]
    public let atomCount: Int

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
    }
}

/// Process-wide RDKit settings.
public enum RDKit {
    /// The RDKit release linked, e.g. "2022.09.3".
    public static var version: String { String(cString: berd_rdkit_version()) }

    private static let quietByDefault: Bool = {
        berd_set_rdkit_logging(0)
        return true
    }()

    static func configureLoggingOnce() { _ = quietByDefault }

    /// Turns RDKit's own stderr messages on (`--verbose`) or off (the default).
    public static func setLogging(_ enabled: Bool) {
        configureLoggingOnce()
        berd_set_rdkit_logging(enabled ? 1 : 0)
    }
}
