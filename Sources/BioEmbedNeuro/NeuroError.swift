import BioEmbedCore

/// Errors of the BioEmbedNeuro module.
///
/// Every message names the file and says what was expected and what was found; thrown from a
/// stage, the runner records it in `/errors` as `bad_input` and goes on with the next subject.
public enum NeuroError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The input file is malformed or does not fit the request.
    case invalidInput(file: String, expected: String, found: String)
    /// The file ended before the data its header announces.
    case truncated(file: String, expectedBytes: Int, foundBytes: Int)
    /// A configuration value is not usable (bad strategy name, band edges, ...).
    case invalidParameter(name: String, expected: String, found: String)
    /// A numeric step could not be carried out (singular matrix, too few samples).
    case numerical(file: String, operation: String, detail: String)

    public var description: String {
        switch self {
        case let .invalidInput(file, expected, found):
            return "\(file): expected \(expected), found \(found)"
        case let .truncated(file, expected, found):
            return "\(file): truncated: expected \(expected) bytes of image data after the header, found \(found)"
        case let .invalidParameter(name, expected, found):
            return "parameter '\(name)': expected \(expected), found \(found)"
        case let .numerical(file, operation, detail):
            return "\(file): \(operation) failed: \(detail)"
        }
    }
}

extension NeuroError: BioEmbedError {}
