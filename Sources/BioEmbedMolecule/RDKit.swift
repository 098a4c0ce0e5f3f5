import CRDKitShim

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

    /// RDKit's canonical SMILES of a SMILES string (sanitized; kekulé form when `kekule`), or nil
    /// when RDKit cannot read it. Used to compare SELFIES round trips.
    public static func canonicalSmiles(_ smiles: String, kekule: Bool = false) -> String? {
        configureLoggingOnce()
        guard let handle = berd_mol_from_smiles(smiles, kekule ? 1 : 0) else { return nil }
        defer { berd_mol_free(handle) }
        guard berd_mol_ok(handle) != 0 else { return nil }
        return String(cString: berd_mol_smiles(handle))
    }
}
