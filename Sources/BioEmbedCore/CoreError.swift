/// Errors raised by the core vocabulary (manifests, configurations, items).
///
/// Each case stores what was expected and what was found; `description` builds the sentence.
public enum CoreError: Error, CustomStringConvertible, Sendable, Equatable {
    /// A file could not be read at all.
    case unreadable(file: String, reason: String)
    /// A manifest row is malformed (1-based line number).
    case badManifestRow(file: String, line: Int, problem: String)
    /// A manifest lacks a required column.
    case missingColumn(file: String, column: String, found: [String])
    /// An item's data is invalid.
    case invalidItem(file: String, problem: String)
    /// A value is outside its allowed set or range.
    case invalidValue(name: String, expected: String, found: String)

    public var description: String {
        switch self {
        case let .unreadable(file, reason):
            return "\(file): cannot be read: \(reason)"
        case let .badManifestRow(file, line, problem):
            return "\(file):\(line): \(problem)"
        case let .missingColumn(file, column, found):
            return "\(file): expected a column named '\(column)', found columns \(found.map { "'\($0)'" }.joined(separator: ", "))"
        case let .invalidItem(file, problem):
            return "\(file): \(problem)"
        case let .invalidValue(name, expected, found):
            return "\(name): expected \(expected), found \(found)"
        }
    }
}

/// The errors BioEmbed raises on purpose: each module's error enum conforms. A batch records
/// them as `bad_input`; any other error thrown by a stage is recorded as a `crash`.
public protocol BioEmbedError: Error, CustomStringConvertible, Sendable {}

extension CoreError: BioEmbedError {}
