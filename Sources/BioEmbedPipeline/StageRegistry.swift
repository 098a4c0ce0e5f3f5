import BioEmbedCore
import BioEmbedHDF5
import BioEmbedMolecule
import BioEmbedNeuro
import BioEmbedNN
import BioEmbedStructure
import Foundation
import Yams

/// A stage with its type erased, ready for the runner: built from a pipeline entry or the CLI.
public struct AnyStage: Sendable {
    public let name: String
    public let version: Int
    public let collection: String
    public let fields: [FieldSpec]
    public let collectionAttributes: [String: MetadataValue]
    public let requiredColumns: [String]
    /// See `Stage.parallelizesWithinItems`.
    public let parallelizesWithinItems: Bool
    /// The configuration as JSON with sorted keys (provenance `parameters`, resume keys).
    public let parametersJSON: String
    /// The files named by path parameters (an atlas, maps, a vocabulary): their content is part of
    /// every item's resume key.
    public let parameterFiles: [String: String]
    private let files: @Sendable (ManifestItem) -> [String: String]
    private let body: @Sendable (ManifestItem, StageContext) throws -> [StageOutput]
    private let arrays: @Sendable () throws -> [String: FieldData]
    private let units: @Sendable (ManifestItem) -> [ManifestItem]

    public init<S: Stage>(_ stage: S) {
        name = S.name
        version = S.version
        collection = S.collection
        fields = stage.fields
        collectionAttributes = stage.collectionAttributes
        requiredColumns = stage.requiredColumns
        parallelizesWithinItems = S.parallelizesWithinItems
        parametersJSON = parametersText(stage.configuration)
        parameterFiles = pathParameters(parametersJSON, names: S.Configuration.pathParameterNames)
        files = { stage.inputFiles(for: $0) }
        body = { item, context in try stage.outputs(item, context: context) }
        arrays = { try stage.collectionArrays() }
        units = { stage.workUnits(for: $0) }
    }

    /// See `Stage.workUnits(for:)`.
    public func workUnits(for item: ManifestItem) -> [ManifestItem] { units(item) }

    /// See `Stage.inputFiles(for:)`.
    public func inputFiles(for item: ManifestItem) -> [String: String] { files(item) }

    /// The stage's collection-level arrays (written after the items).
    public func collectionArrays() throws -> [String: FieldData] { try arrays() }

    public func outputs(_ item: ManifestItem, context: StageContext) throws -> [StageOutput] {
        try body(item, context)
    }
}

/// A collection stage with its type erased.
public struct AnyCollectionStage: Sendable {
    public let name: String
    public let version: Int
    public let inputCollection: String
    public let outputSchema: String
    public let kind: CollectionStageKind
    public let parametersJSON: String
    /// See `CollectionStage.resumeFiles`.
    public let resumeFiles: [String]
    /// See `CollectionStage.reads`.
    public let reads: [String]
    private let body: @Sendable (HDF5File, HDF5File, ErrorLog, CollectionStageContext) throws -> CollectionStageResult

    public init<S: CollectionStage>(_ stage: S) {
        name = S.name
        version = S.version
        inputCollection = S.inputCollection
        outputSchema = S.outputSchema
        kind = stage.kind
        parametersJSON = parametersText(stage.configuration)
        resumeFiles = stage.resumeFiles
        reads = S.reads
        body = { input, output, errors, context in try stage.run(input: input, output: output, errors: errors, context: context) }
    }

    public func run(input: HDF5File, output: HDF5File, errors: ErrorLog, context: CollectionStageContext) throws -> CollectionStageResult {
        try body(input, output, errors, context)
    }
}

/// One step of a pipeline: an item stage (files → collection) or a collection stage.
public enum PipelineStep: Sendable {
    case items(AnyStage)
    case collection(AnyCollectionStage)

    public var name: String {
        switch self {
        case let .items(stage): stage.name
        case let .collection(stage): stage.name
        }
    }
}

/// The configuration as JSON with sorted keys.
/// The values of the path parameters `names` in a configuration's JSON, by name.
func pathParameters(_ json: String, names: [String]) -> [String: String] {
    guard let object = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any] else { return [:] }
    var out: [String: String] = [:]
    for name in names { if let path = object[name] as? String, !path.isEmpty { out[name] = path } }
    return out
}

func parametersText<C: Encodable>(_ configuration: C) -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    return (try? encoder.encode(configuration)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
}

/// Every stage a pipeline file can name. Stage families register here as their issues land.
public enum StageRegistry {
    struct Entry: Sendable {
        let summary: String
        /// How it runs over a sharded run's items, for listings (a collection stage's parameters may
        /// make it a reduce: `fmri_connectivity` with `tangent`).
        let kind: String
        let startupNeeds: StartupNeeds
        let parameters: [StageParameter]
        var parameterNames: [String] { parameters.keys }
        var pathParameterNames: [String] { parameters.fileKeys }
        let make: @Sendable (String) throws -> PipelineStep
    }

    static func entry<S: Stage>(_: S.Type) -> Entry {
        Entry(summary: S.summary, kind: PipelineGraph.Kind.mapManifest.rawValue, startupNeeds: S.startupNeeds, parameters: S.Configuration.parameters) { yaml in
            .items(AnyStage(S(try YAMLDecoder().decode(S.Configuration.self, from: yaml))))
        }
    }

    static func entry<S: CollectionStage>(_: S.Type) -> Entry {
        Entry(summary: S.summary, kind: S.kindDescription, startupNeeds: S.startupNeeds, parameters: S.Configuration.parameters) { yaml in
            .collection(AnyCollectionStage(S(try YAMLDecoder().decode(S.Configuration.self, from: yaml))))
        }
    }

    /// Stage name → entry. Each family adds its stages here (one line each).
    static let entries: [String: Entry] = [
        FileChecksumStage.name: entry(FileChecksumStage.self),
        MoleculeTokenizeStage.name: entry(MoleculeTokenizeStage.self),
        FMRIExtractStage.name: entry(FMRIExtractStage.self),
        FMRIConnectivityStage.name: entry(FMRIConnectivityStage.self),
        FMRIGraphStage.name: entry(FMRIGraphStage.self),
        FMRISpectralStage.name: entry(FMRISpectralStage.self),
        FMRIDynamicCPStage.name: entry(FMRIDynamicCPStage.self),
        PSTEncodeStage.name: entry(PSTEncodeStage.self),
        MolT5EncodeStage.name: entry(MolT5EncodeStage.self),
        BrainMAEEncodeStage.name: entry(BrainMAEEncodeStage.self),
        ProteinTokenizeStage.name: entry(ProteinTokenizeStage.self),
        BrainMAETrainStage.name: entry(BrainMAETrainStage.self),
    ]

    /// Stage names with their one-line summaries, sorted.
    public static var stages: [(name: String, kind: String, summary: String, parameters: [StageParameter])] {
        entries.keys.sorted().map { ($0, entries[$0]!.kind, entries[$0]!.summary, entries[$0]!.parameters) }
    }

    /// The `{output_dir}/…` file parameters of a pipeline entry (weights a stage writes or reads,
    /// its config, …), as the relative paths they name: stages naming the same one are connected.
    public static func outputDirectoryReferences(_ entry: PipelineSpec.StageEntry) -> Set<String> {
        guard let known = entries[entry.stage], let node = try? Yams.compose(yaml: entry.parametersYAML), let mapping = node.mapping else { return [] }
        var found = Set<String>()
        for key in known.pathParameterNames {
            guard let value = mapping[key]?.scalar?.string, value.hasPrefix(outputDirectoryMarker) else { continue }
            found.insert(String(value.dropFirst(outputDirectoryMarker.count).drop { $0 == "/" }))
        }
        return found
    }

    /// What a file parameter starts with to name a path in the run's output folder.
    static let outputDirectoryMarker = "{output_dir}"

    /// What a pipeline's stages need from the process at start-up (their union). A file that cannot
    /// be read needs nothing: `run` reports it once it starts.
    public static func startupNeeds(ofPipeline path: String) -> StartupNeeds {
        guard let spec = try? PipelineSpec.load(path) else { return [] }
        return spec.stages.reduce(into: StartupNeeds()) { $0.formUnion(entries[$1.stage]?.startupNeeds ?? []) }
    }

    /// What any registered stage needs (for `run --list-stages`, which reports for all of them).
    public static var anyStartupNeeds: StartupNeeds {
        entries.values.reduce(into: StartupNeeds()) { $0.formUnion($1.startupNeeds) }
    }

    /// Builds the stage of one pipeline entry; unknown stages and parameters name their line.
    ///
    /// - Parameter outputDirectory: what `{output_dir}` at the start of a file parameter means.
    public static func make(_ entry: PipelineSpec.StageEntry, file: String, outputDirectory: String = "") throws(PipelineError) -> PipelineStep {
        guard let known = entries[entry.stage] else {
            throw PipelineError.unknownStage(file: file, line: entry.line, stage: entry.stage, known: entries.keys.sorted())
        }
        for (key, line) in entry.parameterLines.sorted(by: { $0.value < $1.value }) where !known.parameterNames.contains(key) {
            throw PipelineError.unknownKey(file: file, line: line, key: key, allowed: known.parameterNames)
        }
        do {
            return try known.make(resolvingPaths(
                entry.parametersYAML, keys: known.pathParameterNames, base: (file as NSString).deletingLastPathComponent, outputDirectory: outputDirectory))
        } catch let error as DecodingError {
            throw PipelineError.invalidParameter(file: file, line: entry.line, stage: entry.stage, problem: describe(error))
        } catch {
            throw PipelineError.invalidParameter(file: file, line: entry.line, stage: entry.stage, problem: "\(error)")
        }
    }

    /// The `with:` YAML with the file parameters in `keys` resolved: `{output_dir}/x` becomes a
    /// path in the run's output folder (files a stage writes, or reads from an earlier stage);
    /// other relative paths are joined onto the pipeline file's folder.
    static func resolvingPaths(_ yaml: String, keys: [String], base: String, outputDirectory: String = "") -> String {
        guard !keys.isEmpty, let node = try? Yams.compose(yaml: yaml), var mapping = node.mapping else { return yaml }
        for key in keys {
            guard let value = mapping[key]?.scalar?.string, !value.isEmpty, !value.hasPrefix("/") else { continue }
            if value.hasPrefix(outputDirectoryMarker) {
                mapping[key] = Node(PathText.joined(outputDirectory, String(value.dropFirst(outputDirectoryMarker.count).drop { $0 == "/" })), Tag(.str))
            } else if !base.isEmpty {
                mapping[key] = Node(PathText.joined(base, value), Tag(.str))
            }
        }
        return (try? Yams.serialize(node: Node.mapping(mapping))) ?? yaml
    }

    static func describe(_ error: DecodingError) -> String {
        func path(_ context: DecodingError.Context) -> String {
            context.codingPath.map(\.stringValue).joined(separator: ".")
        }
        switch error {
        case let .typeMismatch(type, context): return "'\(path(context))': expected a value of type \(type)"
        case let .valueNotFound(type, context): return "'\(path(context))': expected a value of type \(type), found none"
        case let .keyNotFound(key, _): return "expected a parameter '\(key.stringValue)', found none"
        case let .dataCorrupted(context): return "'\(path(context))': \(context.debugDescription)"
        @unknown default: return "\(error)"
        }
    }
}
