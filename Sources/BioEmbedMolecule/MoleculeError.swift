import BioEmbedCore

/// Errors of the molecule stage family.
public enum MoleculeError: Error, CustomStringConvertible, Sendable {
    /// RDKit rejected a record (the message is RDKit's own, e.g. a valence error).
    case rdkit(file: String, record: Int, message: String)
    /// A file is not an SDF/MOL file.
    case invalidInput(file: String, expected: String, found: String)
    /// A bond type E3FP has no code for (not single/double/triple/aromatic), atoms in SMILES order.
    case unsupportedBond(atoms: (Int, Int))
    /// One record could not be tokenized (no 3D coordinates, SELFIES failure, vocabulary, …).
    case record(file: String, record: Int, line: Int, reason: String)

    public var description: String {
        switch self {
        case let .rdkit(file, record, message):
            return "\(file): record \(record): RDKit could not read the molecule: \(message)"
        case let .invalidInput(file, expected, found):
            return "\(file): expected \(expected), found \(found)"
        case let .unsupportedBond(atoms):
            return "bond \(atoms.0)-\(atoms.1): expected a single, double, triple or aromatic bond (E3FP has no code for its type)"
        case let .record(file, record, line, reason):
            return "\(file): record \(record) (line \(line)): \(reason)"
        }
    }
}

extension MoleculeError: BioEmbedError {}
