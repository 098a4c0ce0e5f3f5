import BioEmbedCore

/// Errors of the linear-algebra layer; each names the routine and what was expected.
public enum LinalgError: Error, CustomStringConvertible, Sendable, Equatable {
    case shapeMismatch(operation: String, expected: String, found: String)
    /// Cholesky found a non-positive pivot (`order` is LAPACK's 1-based leading minor).
    case notPositiveDefinite(operation: String, order: Int)
    /// A solve met an exactly singular matrix (`pivot` is 1-based).
    case singular(operation: String, pivot: Int)
    /// Any other LAPACK failure (`info` as LAPACK returned it).
    case lapack(routine: String, info: Int)

    public var description: String {
        switch self {
        case let .shapeMismatch(operation, expected, found):
            return "\(operation): expected \(expected), found \(found)"
        case let .notPositiveDefinite(operation, order):
            return "\(operation): expected a symmetric positive-definite matrix, found a non-positive leading minor of order \(order)"
        case let .singular(operation, pivot):
            return "\(operation): expected a non-singular matrix, found a zero pivot at \(pivot)"
        case let .lapack(routine, info):
            return "\(routine) failed with info = \(info)"
        }
    }
}

extension LinalgError: BioEmbedError {}
