/// The parameters of `nilearn.signal.clean` that BioEmbed reproduces.
public struct CleanParameters: Sendable, Hashable, Codable {
    public enum Filter: String, Sendable, Hashable, Codable { case butterworth, cosine }
    public enum Standardize: String, Sendable, Hashable, Codable {
        case zscoreSample = "zscore-sample"
        case none
    }

    public var detrend: Bool
    public var standardize: Standardize
    public var standardizeConfounds: Bool
    public var filter: Filter
    /// Hz; the lower cut-off (removes slower signals).
    public var highPass: Double?
    /// Hz; the upper cut-off (Butterworth only).
    public var lowPass: Double?
    /// Butterworth order (nilearn: 5).
    public var order: Int

    public init(
        detrend: Bool = true, standardize: Standardize = .zscoreSample, standardizeConfounds: Bool = true,
        filter: Filter = .butterworth, highPass: Double? = nil, lowPass: Double? = nil, order: Int = 5
    ) {
        self.detrend = detrend
        self.standardize = standardize
        self.standardizeConfounds = standardizeConfounds
        self.filter = filter
        self.highPass = highPass
        self.lowPass = lowPass
        self.order = order
    }

    /// Whether any step needs the repetition time.
    public var needsTR: Bool { highPass != nil || lowPass != nil }

    /// Whether cleaning changes anything at all.
    public var isIdentity: Bool { !detrend && standardize == .none && highPass == nil && lowPass == nil }
}
