/// What `/provenance/<stage>` records: how a stage's output was made.
public struct Provenance: Sendable, Codable, Equatable {
    /// One input file and its content hash.
    public struct Input: Sendable, Codable, Equatable, Hashable {
        public var path: String
        public var sha256: String
        public init(path: String, sha256: String) {
            self.path = path
            self.sha256 = sha256
        }
    }

    public var stage: String
    public var version: Int
    /// The stage configuration as JSON (sorted keys).
    public var parameters: String
    public var inputs: [Input]
    public var startedUTC: String
    public var seconds: Double

    public init(stage: String, version: Int, parameters: String, inputs: [Input], startedUTC: String, seconds: Double) {
        self.stage = stage
        self.version = version
        self.parameters = parameters
        self.inputs = inputs
        self.startedUTC = startedUTC
        self.seconds = seconds
    }
}
