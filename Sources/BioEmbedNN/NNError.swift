import BioEmbedCore

/// Errors of the BioEmbedNN module.
///
/// Neural-network runtime and the PST, 3D-MolT5 and BrainMAE encoders (see the encoders issue).
public enum NNError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The input file is malformed.
    case invalidInput(file: String, expected: String, found: String)

    public var description: String {
        switch self {
        case let .invalidInput(file, expected, found):
            return "\(file): expected \(expected), found \(found)"
        }
    }
}

extension NNError: BioEmbedError {}
