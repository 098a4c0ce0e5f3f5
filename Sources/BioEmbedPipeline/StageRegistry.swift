import BioEmbedCore
import BioEmbedHDF5
import BioEmbedNN
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
    /// The configuration as JSON with sorted keys (provenance `parameters`, resume keys).
    public let parametersJSON: String
    private let body: @Sendable (ManifestItem, StageContext) throws -> [StageOutput]

    public init<S: Stage>(_ stage: S) {
        name = S.name
        version = S.version
        collection = S.collection
        fields = stage.fields
        collectionAttributes = stage.collectionAttributes
        requiredColumns = stage.requiredColumns
        parametersJSON = parametersText(stage.configuration)
        body = { item, context in try stage.outputs(item, context: context) }
    }

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
    public let parametersJSON: String
    private let body: @Sendable (HDF5File, HDF5File, ErrorLog, CollectionStageContext) throws -> CollectionStageResult

    public init<S: CollectionStage>(_ stage: S) {
        name = S.name
        version = S.version
        inputCollection = S.inputCollection
        outputSchema = S.outputSchema
        parametersJSON = parametersText(stage.configuration)
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
func parametersText<C: Encodable>(_ configuration: C) -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    return (try? encoder.encode(configuration)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
}

/// Every stage a pipeline file can name. Stage families register here as their issues land.
public enum StageRegistry {
    struct Entry: Sendable {
        let summary: String
        let parameterNames: [String]
        let make: @Sendable (String) throws -> PipelineStep
    }

    static func entry<S: Stage>(_: S.Type) -> Entry {
        Entry(summary: S.summary, parameterNames: S.Configuration.parameterNames) { yaml in
            .items(AnyStage(S(try YAMLDecoder().decode(S.Configuration.self, from: yaml))))
        }
    }

    static func entry<S: CollectionStage>(_: S.Type) -> Entry {
        Entry(summary: S.summary, parameterNames: S.Configuration.parameterNames) { yaml in
            .collection(AnyCollectionStage(S(try YAMLDecoder().decode(S.Configuration.self, from: yaml))))
        }
    }

    /// Stage name → entry. Each family adds its stages here (one line each).
    static let entries: [String: Entry] = [
        FileChecksumStage.name: entry(FileChecksumStage.self),
        PSTEncodeStage.name: entry(PSTEncodeStage.self),
        MolT5EncodeStage.name: entry(MolT5EncodeStage.self),
        BrainMAEEncodeStage.name: entry(BrainMAEEncodeStage.self),
        BrainMAETrainStage.name: entry(BrainMAETrainStage.self),
    ]

    /// Stage names with their one-line summaries, sorted.
    public static var stages: [(name: String, summary: String, parameters: [String])] {
        entries.keys.sorted().map { ($0, entries[$0]!.summary, entries[$0]!.parameterNames) }
    }

    /// Builds the stage of one pipeline entry; unknown stages and parameters name their line.
    public static func make(_ entry: PipelineSpec.StageEntry, file: String) throws(PipelineError) -> PipelineStep {
        guard let known = entries[entry.stage] else {
            throw PipelineError.unknownStage(file: file, line: entry.line, stage: entry.stage, known: entries.keys.sorted())
        }
        for (key, line) in entry.parameterLines.sorted(by: { $0.value < $1.value }) where !known.parameterNames.contains(key) {
            throw PipelineError.unknownKey(file: file, line: line, key: key, allowed: known.parameterNames)
        }
        do {
            return try known.make(entry.parametersYAML)
        } catch let error as DecodingError {
            throw PipelineError.invalidParameter(file: file, line: entry.line, stage: entry.stage, problem: describe(error))
        } catch {
            throw PipelineError.invalidParameter(file: file, line: entry.line, stage: entry.stage, problem: "\(error)")
        }
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
