import BioEmbedCore

/// Errors of the BioEmbedStructure module.
///
/// Structure stage family: PDB/mmCIF parsing, residue graphs, 3Di tokens (see the protein issue).
public enum StructureError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The input file is malformed.
    case invalidInput(file: String, expected: String, found: String)

    public var description: String {
        switch self {
        case let .invalidInput(file, expected, found):
            return "\(file): expected \(expected), found \(found)"
        }
    }
}

extension StructureError: BioEmbedError {}
