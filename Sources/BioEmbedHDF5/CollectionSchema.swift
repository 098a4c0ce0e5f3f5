import BioEmbedCore

/// A collection layout from `data-schemas/<collection>.json` (format in data-schemas/README.md).
public struct CollectionSchema: Codable, Sendable, Equatable {
    public struct AttributeRule: Codable, Sendable, Equatable {
        public var type: String
        public var required: Bool?
    }

    public struct DatasetRule: Codable, Sendable, Equatable {
        public var path: String
        public var dtype: DTypeRule
        public var shape: [ShapeEntry]
        public var required: Bool?
        public var unique: Bool?
        public var offsets: Bool?
        /// Every value must be finite (embeddings: a NaN row is a failed item, never output).
        public var finite: Bool?
        /// Allowed names for a `*` in `path`.
        public var names: [String]?
        public var attributes: [String: AttributeRule]?
        /// For the `ids` of a nested collection: the one id it may hold instead of a subsequence of
        /// the parent's, for a result over the whole parent (e.g. a group-level fit).
        public var whole: String?
    }

    /// One allowed dtype or a list of them.
    public struct DTypeRule: Codable, Sendable, Equatable {
        public var allowed: [String]
        public init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let one = try? container.decode(String.self) { allowed = [one] } else { allowed = try container.decode([String].self) }
        }
        public func encode(to encoder: any Encoder) throws {
            var container = encoder.singleValueContainer()
            if allowed.count == 1 { try container.encode(allowed[0]) } else { try container.encode(allowed) }
        }
    }

    /// An integer or a symbolic size.
    public enum ShapeEntry: Codable, Sendable, Equatable {
        case fixed(Int)
        case symbol(String)
        public init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let n = try? container.decode(Int.self) { self = .fixed(n) } else { self = .symbol(try container.decode(String.self)) }
        }
        public func encode(to encoder: any Encoder) throws {
            var container = encoder.singleValueContainer()
            switch self {
            case let .fixed(n): try container.encode(n)
            case let .symbol(s): try container.encode(s)
            }
        }
    }

    public var schema: String
    public var group: String
    public var group_names: [String]?
    public var description: String
    public var attributes: [String: AttributeRule]?
    public var datasets: [DatasetRule]
}

extension CollectionSchema {
    /// True when `prefix` is a proper prefix of `path`, segment by segment; `*` on either side
    /// matches any one segment (schema patterns such as `graph/*` against a file's `graph/correlation`).
    public static func isPrefix(_ prefix: [String], of path: [String]) -> Bool {
        prefix.count < path.count && zip(prefix, path).allSatisfy { $0 == "*" || $1 == "*" || $0 == $1 }
    }

    /// The rules of `rules` that lie below the nested collection `prefix`, with paths relative to
    /// it; a first axis `sum(P/x_offsets)` below it becomes `sum(x_offsets)`, so `N` and `sum(...)`
    /// refer to the nested collection's own ids and offsets.
    public static func rules(_ rules: [DatasetRule], below prefix: [String]) -> [DatasetRule] {
        rules.compactMap { rule in
            let parts = rule.path.split(separator: "/").map(String.init)
            guard isPrefix(prefix, of: parts) else { return nil }
            var copy = rule
            copy.path = parts.dropFirst(prefix.count).joined(separator: "/")
            if case let .symbol(first)? = copy.shape.first, first.hasPrefix("sum("), first.hasSuffix(")") {
                let offsets = first.dropFirst(4).dropLast().split(separator: "/").map(String.init)
                if isPrefix(prefix, of: offsets) { copy.shape[0] = .symbol("sum(" + offsets.dropFirst(prefix.count).joined(separator: "/") + ")") }
            }
            return copy
        }
    }
}
