import BioEmbedCore

/// Errors of the BioEmbedStructure module (PDB/mmCIF parsing, residue graphs, 3Di tokens).
///
/// Every message names the file and, where one applies, the line; thrown from a stage they become
/// `bad_input` rows in `/errors` while the rest of the batch is still written.
public enum StructureError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The input file is malformed.
    case invalidInput(file: String, expected: String, found: String)
    /// A line of the file could not be parsed (1-based line number).
    case malformedLine(file: String, line: Int, expected: String, found: String)
    /// The file could not be read (missing, unreadable, corrupt gzip stream).
    case unreadable(file: String, reason: String)
    /// The file parsed but holds no protein chain with Cα atoms.
    case noProteinChains(file: String, detail: String)

    public var description: String {
        switch self {
        case let .invalidInput(file, expected, found):
            return "\(file): expected \(expected), found \(found)"
        case let .malformedLine(file, line, expected, found):
            return "\(file):\(line): expected \(expected), found \(found)"
        case let .unreadable(file, reason):
            return "\(file): cannot read: \(reason)"
        case let .noProteinChains(file, detail):
            return "\(file): expected at least one protein chain with CA atoms, found \(detail)"
        }
    }
}

extension StructureError: BioEmbedError {}
