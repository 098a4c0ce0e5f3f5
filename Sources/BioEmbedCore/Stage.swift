/// The configuration of a stage: the same value is decoded from a pipeline file's `with:` mapping
/// and built from the CLI flags, so `run` and the per-stage commands cannot drift apart.
public protocol StageConfiguration: Codable, Hashable, Sendable {
    /// The stage's parameters, declared once (`StageParameter`): the keys a pipeline file may set
    /// (a key not listed is an error naming the key and its line), the CLI flags' help, listings.
    static var parameters: [StageParameter] { get }
}

extension StageConfiguration {
    /// The keys a pipeline file may set (snake_case, equal to the CLI flag names with `_` for `-`).
    public static var parameterNames: [String] { parameters.keys }
    /// Parameters that name files (atlas, weights, ...): in a pipeline file a relative path is
    /// resolved against the pipeline file's folder, like its manifest.
    public static var pathParameterNames: [String] { parameters.fileKeys }
    /// The parameter with pipeline key `key`.
    public static func parameter(_ key: String) -> StageParameter { parameters[key: key] }
}

/// One step of a pipeline: a configuration plus a function over items.
///
/// A stage stores its configuration in `init` and does no I/O there (nilearn's rule). `process` is
/// called once per item, possibly from several threads at once, and must not touch shared state:
/// it reads the item's inputs and returns its record. The runner owns the output file: it appends
/// each record to the stage's collection, records failures in `/errors`, and writes `/provenance`.
///
/// Group-level work (a mean over subjects, a merge) is a later extension: `finish` receives every
/// written record's id once all items are done.
public protocol Stage: Sendable {
    associatedtype Configuration: StageConfiguration

    /// The stage's name in pipeline files, on the CLI and in `/provenance/<name>`.
    static var name: String { get }
    /// Bumped when the stage's output for the same input and configuration changes (resume key).
    static var version: Int { get }
    /// The collection group the stage writes (`/<collection>`).
    static var collection: String { get }
    /// One-line description for `--help` and listings.
    static var summary: String { get }
    /// What the stage needs from the process at start-up (BLAS, RDKit's allocator); `run` takes
    /// the union over a pipeline's stages.
    static var startupNeeds: StartupNeeds { get }

    var configuration: Configuration { get }
    init(_ configuration: Configuration)

    /// The arrays of the output collection, declared before the first item.
    var fields: [FieldSpec] { get }
    /// Attributes of the collection group (e.g. `cutoff`, `k`).
    var collectionAttributes: [String: MetadataValue] { get }
    /// Manifest columns the stage reads (validated before any work starts).
    var requiredColumns: [String] { get }
    /// Every file whose content decides an item's result, by role (a column name, or a name for a
    /// companion file the stage finds itself: a sidecar, the other hemisphere): the resume key
    /// hashes them, so changing any one redoes that item. Default: the paths of `requiredColumns`.
    func inputFiles(for item: ManifestItem) -> [String: String]

    /// Computes one item's record. Throws `CoreError` (or a module error) naming the file and problem.
    func process(_ item: ManifestItem, context: StageContext) throws -> ItemRecord

    /// The records of one input when it holds several items (the chains of a structure file, the
    /// records of an SDF): each is a record or a failure of its own, so one bad record does not
    /// lose the others. Throwing fails the whole input. Default: `[.record(process(item))]`.
    func outputs(_ item: ManifestItem, context: StageContext) throws -> [StageOutput]

    /// Collection-level 1-D arrays written once after all items (e.g. `/fmri/region_ids`, shared by
    /// every subject). Default: none.
    func collectionArrays() throws -> [String: FieldData]

    /// The work units of one input: `[item]` by default. A stage whose inputs can be very large and
    /// hold independent records (an SDF library) may cut one into several units (each with its own
    /// id, fields saying which part it is, and its own resume key), so that memory is bounded by
    /// the unit, not by the file. Must be cheap and deterministic for the same file content.
    func workUnits(for item: ManifestItem) -> [ManifestItem]

    /// True for stages whose inputs hold many independent records (an SDF library): the runner then
    /// gives one input at a time all of `--jobs` as `context.threads`, instead of one input per
    /// core, so that one large file uses every core and no core idles at the end. Default: false.
    static var parallelizesWithinItems: Bool { get }
}

extension Stage {
    public static var parallelizesWithinItems: Bool { false }
    public func workUnits(for item: ManifestItem) -> [ManifestItem] { [item] }
    public var collectionAttributes: [String: MetadataValue] { [:] }
    public var requiredColumns: [String] { ["path"] }
    public func inputFiles(for item: ManifestItem) -> [String: String] {
        var files: [String: String] = [:]
        for column in requiredColumns { if let path = item.path(column) { files[column] = path } }
        return files
    }
    public func collectionArrays() throws -> [String: FieldData] { [:] }

    public func outputs(_ item: ManifestItem, context: StageContext) throws -> [StageOutput] {
        [.record(try process(item, context: context))]
    }

    /// Multi-record stages implement `outputs` instead.
    public func process(_ item: ManifestItem, context: StageContext) throws -> ItemRecord {
        preconditionFailure("\(Self.self) must implement process(_:context:) or outputs(_:context:)")
    }
}

/// One item produced from an input: its record, or why it failed (`id` as it would have been).
public enum StageOutput: Sendable {
    case record(ItemRecord)
    case failure(id: String, message: String)
}

/// What a stage may know about the run it is part of.
public struct StageContext: Sendable {
    /// Threads the stage may use itself (BLAS threads are set by the runner).
    public var threads: Int
    /// Seed for anything random.
    public var seed: UInt64

    public init(threads: Int = 1, seed: UInt64 = 0) {
        self.threads = threads
        self.seed = seed
    }
}
