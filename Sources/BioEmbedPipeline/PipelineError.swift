import BioEmbedCore

/// Errors in pipeline files and runs (configuration problems: exit code 1, nothing written).
public enum PipelineError: Error, CustomStringConvertible, Sendable, Equatable {
    case unreadable(file: String, reason: String)
    case invalidYAML(file: String, line: Int, problem: String)
    case unknownKey(file: String, line: Int, key: String, allowed: [String])
    case missingKey(file: String, line: Int, key: String)
    case unknownStage(file: String, line: Int, stage: String, known: [String])
    case invalidParameter(file: String, line: Int, stage: String, problem: String)
    case invalidShard(given: String)
    /// Another run holds the output folder's lock (`OutputLock`).
    case busy(folder: String, holder: String, lock: String)

    public var description: String {
        switch self {
        case let .unreadable(file, reason):
            return "\(file): cannot be read: \(reason)"
        case let .invalidYAML(file, line, problem):
            return "\(file):\(line): \(problem)"
        case let .unknownKey(file, line, key, allowed):
            return "\(file):\(line): unknown key '\(key)'; expected one of: \(allowed.joined(separator: ", "))"
        case let .missingKey(file, line, key):
            return "\(file):\(line): expected a '\(key)' key, found none"
        case let .unknownStage(file, line, stage, known):
            return "\(file):\(line): unknown stage '\(stage)'; known stages: \(known.joined(separator: ", "))"
        case let .invalidParameter(file, line, stage, problem):
            return "\(file):\(line): stage '\(stage)': \(problem)"
        case let .invalidShard(given):
            return "--shard: expected I/N with 0 ≤ I < N (e.g. 0/4), found '\(given)'"
        case let .busy(folder, holder, lock):
            return "\(folder.isEmpty ? "." : folder): expected no other run writing into this folder, found one (\(holder), lock \(lock)); wait for it to finish or use another output folder"
        }
    }
}

extension PipelineError: BioEmbedError {}
