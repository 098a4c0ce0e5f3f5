import BioEmbedCore
import Foundation

/// What `bioembed submit` wrote and submitted, kept in `<run dir>/slurm/submission.json`: enough
/// for `status` and `submit --resume` to work without any long-lived process.
public struct SlurmSubmission: Codable, Sendable {
    /// Resources of the jobs of one stage (sbatch options; nil = the cluster's default).
    public struct Resources: Codable, Sendable, Equatable {
        public var partition: String?
        public var time: String?
        public var mem: String?
        public var cpusPerTask: Int?
        public var account: String?
        public var qos: String?
        /// Extra `#SBATCH` lines, verbatim (e.g. `--constraint=avx512`).
        public var extra: [String]

        /// `self` with every value `other` sets replacing it.
        public func overridden(by other: Resources) -> Resources {
            Resources(partition: other.partition ?? partition, time: other.time ?? time, mem: other.mem ?? mem,
                      cpusPerTask: other.cpusPerTask ?? cpusPerTask, account: other.account ?? account, qos: other.qos ?? qos,
                      extra: extra + other.extra)
        }

        /// From a pipeline file's `slurm:` / `resources:` mapping.
        public init(_ values: [String: String], extra: [String] = []) {
            self.init(partition: values["partition"], time: values["time"], mem: values["mem"],
                      cpusPerTask: values["cpus_per_task"].flatMap { Int($0) }, account: values["account"], qos: values["qos"], extra: extra)
        }

        public init(partition: String? = nil, time: String? = nil, mem: String? = nil, cpusPerTask: Int? = nil,
                    account: String? = nil, qos: String? = nil, extra: [String] = []) {
            self.partition = partition
            self.time = time
            self.mem = mem
            self.cpusPerTask = cpusPerTask
            self.account = account
            self.qos = qos
            self.extra = extra
        }
    }

    /// One `sbatch` call: a job array over some shards.
    public struct ArrayJob: Codable, Sendable, Equatable {
        public var stage: String
        public var jobID: String
        /// Shard = array task index + offset.
        public var offset: Int
        public var indices: [Int]
    }

    public var pipeline: String
    public var runDirectory: String
    public var shards: Int
    public var throttle: Int
    public var executable: String
    /// Resources of the merge job (the pipeline's `slurm:` with the CLI's overrides).
    public var resources: Resources
    /// Resources per stage (also the stage's `resources:`).
    public var stageResources: [String: Resources]
    public var stages: [String]
    /// The stages each stage needs (`PipelineGraph`): its jobs wait for theirs only.
    public var dependencies: [String: [String]] = [:]
    /// The reduce stages: one job each, after every shard of the stages they need.
    public var reduceStages: [String] = []
    public var jobs: [ArrayJob]
    public var mergeJobID: String?
    public var submittedUTC: String
    public var rounds: Int
    /// The merge job also writes `<output>.virtual.h5` (a virtual-dataset index over the shards).
    public var virtualIndex: Bool = false

    public init(pipeline: String, runDirectory: String, shards: Int, throttle: Int, executable: String, resources: Resources,
                stageResources: [String: Resources], stages: [String], jobs: [ArrayJob] = [], mergeJobID: String? = nil,
                submittedUTC: String = "", rounds: Int = 0) {
        self.pipeline = pipeline
        self.runDirectory = runDirectory
        self.shards = shards
        self.throttle = throttle
        self.executable = executable
        self.resources = resources
        self.stageResources = stageResources
        self.stages = stages
        self.jobs = jobs
        self.mergeJobID = mergeJobID
        self.submittedUTC = submittedUTC
        self.rounds = rounds
    }

    enum CodingKeys: String, CodingKey {
        case pipeline, runDirectory, shards, throttle, executable, resources, stageResources, stages, dependencies, reduceStages, jobs
        case mergeJobID, submittedUTC, rounds, virtualIndex
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        pipeline = try c.decode(String.self, forKey: .pipeline)
        runDirectory = try c.decode(String.self, forKey: .runDirectory)
        shards = try c.decode(Int.self, forKey: .shards)
        throttle = try c.decode(Int.self, forKey: .throttle)
        executable = try c.decode(String.self, forKey: .executable)
        resources = try c.decode(Resources.self, forKey: .resources)
        stageResources = try c.decode([String: Resources].self, forKey: .stageResources)
        stages = try c.decode([String].self, forKey: .stages)
        // Records of earlier releases: stages chained in list order, none a reduce.
        dependencies = try c.decodeIfPresent([String: [String]].self, forKey: .dependencies)
            ?? Dictionary(uniqueKeysWithValues: zip(stages.dropFirst(), stages.map { [$0] }))
        reduceStages = try c.decodeIfPresent([String].self, forKey: .reduceStages) ?? []
        jobs = try c.decode([ArrayJob].self, forKey: .jobs)
        mergeJobID = try c.decodeIfPresent(String.self, forKey: .mergeJobID)
        submittedUTC = try c.decode(String.self, forKey: .submittedUTC)
        rounds = try c.decode(Int.self, forKey: .rounds)
        virtualIndex = try c.decodeIfPresent(Bool.self, forKey: .virtualIndex) ?? false
    }

    /// Refuses a control character (a newline above all) in any value that reaches a batch script:
    /// `#SBATCH` lines are comments to bash only up to the end of their line.
    public func checkScriptValues() throws(CoreError) {
        func check(_ value: String?, _ key: String) throws(CoreError) {
            guard let value, let bad = value.unicodeScalars.first(where: { $0.properties.generalCategory == .control }) else { return }
            throw CoreError.invalidValue(
                name: key, expected: "a value without control characters (it is written into a batch script)",
                found: "U+\(String(bad.value, radix: 16, uppercase: true).leftPadded(to: 4)) in \(String(reflecting: value))")
        }
        try check(pipeline, "pipeline path")
        try check(runDirectory, "output folder")
        try check(executable, "bioembed's path")
        func checkResources(_ r: Resources, _ scope: String) throws(CoreError) {
            try check(r.partition, "\(scope)partition")
            try check(r.time, "\(scope)time")
            try check(r.mem, "\(scope)mem")
            try check(r.account, "\(scope)account")
            try check(r.qos, "\(scope)qos")
            for line in r.extra { try check(line, "\(scope)extra (or --sbatch)") }
        }
        try checkResources(resources, "slurm.")
        for stage in stageResources.keys.sorted() { try checkResources(stageResources[stage]!, "stage \(stage) resources.") }
        for stage in stages { try check(stage, "stage name") }
    }

    /// The stages and their edges from a runner's graph.
    public mutating func describe(_ graph: PipelineGraph) {
        stages = graph.nodes.map(\.stage)
        dependencies = Dictionary(uniqueKeysWithValues: graph.nodes.indices.map { index in
            (graph.nodes[index].stage, graph.dependencies[index].map { graph.nodes[$0].stage })
        })
        reduceStages = graph.nodes.filter { $0.kind == .reduce }.map(\.stage)
    }

    public static func path(in runDirectory: String) -> String { PathText.joined(runDirectory, "slurm/submission.json") }

    public static func load(runDirectory: String) throws -> SlurmSubmission {
        let file = path(in: runDirectory)
        guard let data = FileManager.default.contents(atPath: file) else {
            throw CoreError.unreadable(file: file, reason: "no submission here; expected a run folder written by `bioembed submit`")
        }
        do { return try JSONDecoder().decode(SlurmSubmission.self, from: data) } catch {
            throw CoreError.unreadable(file: file, reason: "not a submission record (\(error))")
        }
    }

    public func save() throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let data = try encoder.encode(self)
        let file = Self.path(in: runDirectory)
        guard AtomicFile.write(data, to: file) else {
            throw CoreError.unreadable(file: file, reason: "cannot write the submission record")
        }
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String { String(repeating: "0", count: max(0, width - count)) + self }
}
