import BioEmbedCore

/// Errors of the BioEmbedNeuro module.
///
/// fMRI stage family: NIfTI ingest, signal cleaning, connectivity, graph metrics (see the fMRI issue).
public enum NeuroError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The input file is malformed.
    case invalidInput(file: String, expected: String, found: String)

    public var description: String {
        switch self {
        case let .invalidInput(file, expected, found):
            return "\(file): expected \(expected), found \(found)"
        }
    }
}

extension NeuroError: BioEmbedError {}
