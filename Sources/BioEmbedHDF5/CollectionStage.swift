import BioEmbedCore

/// A stage over a whole collection already in an HDF5 file: connectivity over the subjects of
/// `/fmri`, graph metrics, an encoder over the chains of `/proteins`, ... (item stages, `Stage`,
/// turn input files into a collection; collection stages read one and add groups).
///
/// `run` reads `input` and writes its groups into `output`. When the command names the same file
/// for `--input` and `--output` (and in pipelines, by default), `output` is a copy of `input` being
/// written under a temporary name: add groups, do not rewrite the source collection. The executor
/// writes the root attributes (when `output` is a new file), `/provenance/<name>` and commits.
/// Running a stage again into the same file replaces its groups: remove them first if present.
/// Per-item failures go to `errors` (the run goes on); throw only when nothing can be done
/// (e.g. the input collection is missing).
public protocol CollectionStage: Sendable {
    associatedtype Configuration: StageConfiguration

    static var name: String { get }
    static var version: Int { get }
    static var summary: String { get }
    /// What the stage needs from the process at start-up (BLAS, RDKit's allocator); `run` takes
    /// the union over a pipeline's stages.
    static var startupNeeds: StartupNeeds { get }
    /// The collection group read from the input file (e.g. `fmri`, `proteins`).
    static var inputCollection: String { get }
    /// The `schema` written to the root of a new output file (e.g. `bioembed/embeddings/1`).
    static var outputSchema: String { get }

    var configuration: Configuration { get }
    init(_ configuration: Configuration)

    /// Map (each item on its own: sharded with the items) or reduce (needs every item at once:
    /// runs once over all shards). Default: map.
    var kind: CollectionStageKind { get }
    /// `kind` for listings, where parameters are not known yet.
    static var kindDescription: String { get }
    /// Files besides the input collection whose content decides every item's output (weights,
    /// model config): part of the per-item resume keys. Default: none.
    var resumeFiles: [String] { get }
    /// The collection stages whose groups this stage reads (graph metrics read connectivity): an
    /// item's resume key includes the key each of them recorded for it, so redoing an item there
    /// redoes it here. Default: none (the stage reads only what the item stage wrote).
    static var reads: [String] { get }

    func run(input: HDF5File, output: HDF5File, errors: ErrorLog, context: CollectionStageContext) throws -> CollectionStageResult
}

/// How a collection stage relates its input items to its output.
public enum CollectionStageKind: String, Sendable, Codable {
    /// Each item's output depends on that item alone (graph metrics, encoders): the stage runs
    /// per shard, next to the stage that wrote its input.
    case map
    /// The result depends on every item together (training, a group mean): the stage runs once
    /// over the whole collection, never per shard.
    case reduce
}

extension CollectionStage {
    public var kind: CollectionStageKind { .map }
    /// For listings: the kind, or how the parameters decide it. Default: the kind's name.
    public static var kindDescription: String { "map over a collection" }
    public var resumeFiles: [String] { [] }
    public static var reads: [String] { [] }
}

/// What a collection stage may use while it runs.
public struct CollectionStageContext {
    public var threads: Int
    public var seed: UInt64
    /// How to show progress: make a `ProgressReporter(label:total:mode:)` with it once the item
    /// count is known.
    public var progress: ProgressReporter.Mode
    /// Resume (`--resume`): the items whose rows an earlier run wrote with the same key. A stage
    /// that supports it copies those rows instead of computing them and counts them as `cached`.
    public var reuse: CollectionReuse?

    public init(threads: Int = 1, seed: UInt64 = 0, progress: ProgressReporter.Mode = .off, reuse: CollectionReuse? = nil) {
        self.reuse = reuse
        self.threads = threads
        self.seed = seed
        self.progress = progress
    }
}

/// Counts a collection stage reports (failures are also in `errors`).
public struct CollectionStageResult: Sendable {
    public var done: Int
    public var failed: Int
    /// Items whose rows were copied from an earlier run (`CollectionStageContext.reuse`).
    public var cached: Int
    /// Input files/objects for provenance (path + SHA-256); the executor adds the input file.
    public var inputs: [Provenance.Input]

    public init(done: Int, failed: Int, cached: Int = 0, inputs: [Provenance.Input] = []) {
        self.done = done
        self.cached = cached
        self.failed = failed
        self.inputs = inputs
    }
}
