/// Covariance estimators of `ConnectivityMeasure(cov_estimator=...)`.
public enum CovarianceEstimator: String, Sendable, Hashable, Codable, CaseIterable {
    /// sklearn `LedoitWolf()`: nilearn's default.
    case ledoitWolf = "ledoit-wolf"
    /// sklearn `EmpiricalCovariance()`: maximum likelihood (ddof 0).
    case empirical
}
