import Foundation

/// The connectivity measures of nilearn's `ConnectivityMeasure` (`kind=`), named as in `/fmri/connectivity/<kind>`.
public enum ConnectivityKind: String, Sendable, Hashable, Codable, CaseIterable {
    case correlation
    case partialCorrelation = "partial_correlation"
    case tangent
    case covariance
    case precision

    /// Accepts `partial-correlation`, `partial correlation` and `partial_correlation`.
    public init(parsing text: String) throws(NeuroError) {
        let key = text.trimmingCharacters(in: .whitespaces).lowercased().replacingOccurrences(of: "-", with: "_").replacingOccurrences(of: " ", with: "_")
        guard let kind = ConnectivityKind(rawValue: key) else {
            throw .invalidParameter(name: "kind", expected: "correlation, partial-correlation, tangent, covariance or precision", found: "'\(text)'")
        }
        self = kind
    }
}
