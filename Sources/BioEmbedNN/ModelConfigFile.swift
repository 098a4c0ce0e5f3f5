import Foundation

/// Reads a model's `config.json` (keys = the checkpoint's names) as a JSON object, with typed
/// accessors whose errors name the file and the key.
public struct ModelConfigFile: @unchecked Sendable {
    // @unchecked: the parsed JSON dictionary is immutable after init.
    public let path: String
    public let values: [String: Any]
    /// The file's text, stored verbatim as the `config` attribute of the output.
    public let text: String

    public init(path: String) throws(NNError) {
        self.path = path
        guard let data = FileManager.default.contents(atPath: path) else {
            throw NNError.invalidConfig(file: path, key: "(file)", expected: "a readable JSON file", found: "no such file")
        }
        guard let object = try? JSONSerialization.jsonObject(with: data), let values = object as? [String: Any] else {
            throw NNError.invalidConfig(file: path, key: "(file)", expected: "a JSON object", found: "unparsable JSON")
        }
        self.values = values
        text = String(decoding: data, as: UTF8.self)
    }

    public init(path: String, values: [String: Any]) {
        self.path = path
        self.values = values
        text = (try? JSONSerialization.data(withJSONObject: values, options: [.sortedKeys])).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }

    public func int(_ key: String, default fallback: Int? = nil, in object: [String: Any]? = nil) throws(NNError) -> Int {
        let value = (object ?? values)[key]
        if let number = value as? Int { return number }
        if let number = value as? Double, number == number.rounded(), abs(number) < 1e15 { return Int(number) }
        if (value == nil || value is NSNull), let fallback { return fallback }
        throw NNError.invalidConfig(file: path, key: key, expected: "an integer", found: value.map { "\($0)" } ?? "nothing")
    }

    /// The largest size a config may give (a width, a count of layers, tokens or buckets): every
    /// buffer sized from a config stays far from overflow. The largest released models use 1/30 of it.
    public static let largestSize = 1 << 20

    public func positiveInt(_ key: String, default fallback: Int? = nil) throws(NNError) -> Int {
        try int(key, default: fallback, within: 1...Self.largestSize)
    }

    /// An integer in `range` (token ids: `0...vocabSize - 1`).
    public func int(_ key: String, default fallback: Int? = nil, within range: ClosedRange<Int>) throws(NNError) -> Int {
        let value = try int(key, default: fallback)
        guard range.contains(value) else {
            throw NNError.invalidConfig(file: path, key: key, expected: "an integer from \(range.lowerBound) to \(range.upperBound)", found: "\(value)")
        }
        return value
    }

    /// A finite number in `range` (an epsilon: above 0; a ratio: its sensible span).
    public func double(_ key: String, default fallback: Double? = nil, in object: [String: Any]? = nil, within range: ClosedRange<Double>) throws(NNError) -> Double {
        let value = try double(key, default: fallback, in: object)
        guard value.isFinite, range.contains(value) else {
            throw NNError.invalidConfig(file: path, key: key, expected: "a number from \(range.lowerBound) to \(range.upperBound)", found: "\(value)")
        }
        return value
    }

    /// The span of a normalization epsilon: positive, below 1.
    public static let epsilonRange = 1e-30...0.5

    public func double(_ key: String, default fallback: Double? = nil, in object: [String: Any]? = nil) throws(NNError) -> Double {
        let value = (object ?? values)[key]
        if let number = value as? Double { return number }
        if let number = value as? Int { return Double(number) }
        if (value == nil || value is NSNull), let fallback { return fallback }
        throw NNError.invalidConfig(file: path, key: key, expected: "a number", found: value.map { "\($0)" } ?? "nothing")
    }

    public func string(_ key: String, default fallback: String? = nil) throws(NNError) -> String {
        let value = values[key]
        if let text = value as? String { return text }
        if (value == nil || value is NSNull), let fallback { return fallback }
        throw NNError.invalidConfig(file: path, key: key, expected: "a string", found: value.map { "\($0)" } ?? "nothing")
    }

    public func bool(_ key: String, default fallback: Bool) throws(NNError) -> Bool {
        let value = values[key]
        if let flag = value as? Bool { return flag }
        if value == nil || value is NSNull { return fallback }
        throw NNError.invalidConfig(file: path, key: key, expected: "true or false", found: "\(value!)")
    }

    /// Requires `a` to be divisible by `b` (e.g. embed_dim by num_heads).
    public func requireDivisible(_ a: Int, _ aKey: String, by b: Int, _ bKey: String) throws(NNError) {
        guard b > 0, a % b == 0 else {
            throw NNError.invalidConfig(file: path, key: aKey, expected: "a multiple of \(bKey) = \(b)", found: "\(a)")
        }
    }
}
