import BioEmbedCore

/// Errors of the BioEmbedNN module: weights, configurations and encoder inputs.
///
/// Every case names the file (weights, config or input) and says what was expected and found.
public enum NNError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The input file is malformed.
    case invalidInput(file: String, expected: String, found: String)
    /// A safetensors file is malformed (truncated, bad header, offsets outside the file).
    case invalidWeights(file: String, detail: String)
    /// A tensor the model needs is absent.
    case missingTensor(file: String, name: String, expectedShape: [Int])
    /// A tensor has another shape than the configuration implies.
    case tensorShape(file: String, name: String, expected: [Int], found: [Int])
    /// Tensors the model does not use (usually: weights of another model or another size).
    case unexpectedTensors(file: String, names: [String])
    /// A tensor has a dtype that cannot be read as float32.
    case unsupportedDType(file: String, name: String, dtype: String)
    /// A configuration value is missing or invalid.
    case invalidConfig(file: String, key: String, expected: String, found: String)
    /// One item cannot be encoded (too long, token outside the vocabulary, ...).
    case invalidItem(id: String, detail: String)

    /// A problem of the run's settings, not of one item: the stage fails as a whole.
    public var isConfiguration: Bool {
        if case .invalidConfig = self { return true }
        return false
    }

    public var description: String {
        switch self {
        case let .invalidInput(file, expected, found):
            return "\(file): expected \(expected), found \(found)"
        case let .invalidWeights(file, detail):
            return "\(file): not a valid safetensors file: \(detail)"
        case let .missingTensor(file, name, shape):
            return "\(file): missing tensor '\(name)' (expected shape \(shape)); are these the weights of this model and config?"
        case let .tensorShape(file, name, expected, found):
            return "\(file): tensor '\(name)' has shape \(found), expected \(expected) from the config"
        case let .unexpectedTensors(file, names):
            let shown = names.prefix(5).map { "'\($0)'" }.joined(separator: ", ")
            return "\(file): \(names.count) tensor(s) not used by this model: \(shown)\(names.count > 5 ? ", ..." : ""); are these the weights of another model?"
        case let .unsupportedDType(file, name, dtype):
            return "\(file): tensor '\(name)' has dtype \(dtype), expected F32, F16, BF16 or F64"
        case let .invalidConfig(file, key, expected, found):
            return "\(file): config key '\(key)': expected \(expected), found \(found)"
        case let .invalidItem(id, detail):
            return "\(id): \(detail)"
        }
    }
}

extension NNError: BioEmbedError {}
