import BioEmbedCore

/// Errors of the molecule stage family.
public enum MoleculeError: Error, CustomStringConvertible, Sendable, Equatable {
    /// RDKit rejected a record (the message is RDKit's own, e.g. a valence error).
    case rdkit(file: String, record: Int, message: String)
    /// A file is not an SDF/MOL file.
    case invalidInput(file: String, expected: String, found: String)

    public var description: String {
        switch self {
        case let .rdkit(file, record, message):
            return "\(file): record \(record): RDKit could not read the molecule: \(message)"
        case let .invalidInput(file, expected, found):
            return "\(file): expected \(expected), found \(found)"
        }
    }
}

extension MoleculeError: BioEmbedError {}
