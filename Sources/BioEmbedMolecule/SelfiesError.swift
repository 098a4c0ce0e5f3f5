/// Why a SMILES could not be written as SELFIES, or a SELFIES string could not be read.
public enum SelfiesError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The SMILES is outside what the encoder reads (selfies 2.x: no `*`, `$`, aromatic input
    /// here, or a malformed string); `position` is the character offset.
    case smiles(smiles: String, position: Int, problem: String)
    /// Strict mode: atoms with more bonds than the default semantic constraints allow.
    case constraints(smiles: String, violations: [String])
    /// A SELFIES symbol the decoder does not know.
    case symbol(selfies: String, symbol: String)

    public var description: String {
        switch self {
        case let .smiles(smiles, position, problem):
            return "SELFIES cannot encode the SMILES '\(smiles)': \(problem) at character \(position)"
        case let .constraints(smiles, violations):
            return "SMILES '\(smiles)' violates the SELFIES default bond constraints: \(violations.joined(separator: "; "))"
        case let .symbol(selfies, symbol):
            return "invalid SELFIES symbol '\(symbol)' in '\(selfies)'"
        }
    }
}
