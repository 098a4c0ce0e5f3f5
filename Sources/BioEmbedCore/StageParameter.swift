/// One parameter of a stage, declared once in its configuration's `parameters` table: the pipeline
/// key (and from it the CLI flag), the value type, the default, the unit, the allowed values and
/// the help text. The pipeline keys a stage accepts, its file parameters, the help of its CLI
/// flags, `run --list-stages` and the check of allowed values are all derived from the table.
public struct StageParameter: Sendable, Equatable {
    public enum ValueType: String, Sendable {
        case integer, number, boolean, text
        /// A path: relative paths in a pipeline file resolve against the file's folder, and the
        /// file's content is part of every item's resume key.
        case file
        /// A list (YAML sequence; on the CLI, comma-separated).
        case list
    }

    /// The pipeline key (snake_case).
    public let key: String
    public let type: ValueType
    /// The default as text, for help and listings; nil when there is none (required, or decided by
    /// other parameters, as the help then says).
    public let defaultText: String?
    public let unit: String?
    /// The values a `text` or `list` parameter may take; empty: any.
    public let allowed: [String]
    public let help: String
    /// The CLI option has the enum's type, so the argument parser lists the values itself.
    private(set) var valuesListedByParser = false

    public init(
        _ key: String, _ type: ValueType, default defaultValue: (any CustomStringConvertible & Sendable)? = nil, unit: String? = nil,
        allowed: [String] = [], help: String
    ) {
        self.key = key
        self.type = type
        defaultText = defaultValue.map { "\($0)" }
        self.unit = unit
        self.allowed = allowed
        self.help = help
    }

    /// A parameter whose values are the cases of an enum (`allowed` from `E.allCases`); a single
    /// value's CLI option has the enum's type (the argument parser lists the values), a list's is
    /// comma-separated text.
    public static func choice<E: CaseIterable & RawRepresentable<String>>(
        _ key: String, _: E.Type, default defaultValue: E? = nil, list: Bool = false, help: String
    ) -> StageParameter {
        var parameter = StageParameter(key, list ? .list : .text, default: defaultValue?.rawValue, allowed: E.allCases.map(\.rawValue), help: help)
        parameter.valuesListedByParser = !list
        return parameter
    }

    /// The CLI flag: `--` and the key with `-` for `_`.
    public var flag: String { "--" + key.replacingOccurrences(of: "_", with: "-") }

    /// The help with the allowed values, the unit and the default (listings).
    public var fullHelp: String {
        guard let defaultText else { return flagHelp }
        return help + allowedText + " Default: \(defaultText)\(unit.map { " \($0)" } ?? "")."
    }

    /// The help with the allowed values and the unit: what `--help` shows for the flag, whose
    /// default (the same value, read from the configuration) the argument parser adds itself.
    public var flagHelp: String { help + (valuesListedByParser ? "" : allowedText) + (unit.map { " Unit: \($0)." } ?? "") }

    private var allowedText: String { allowed.isEmpty ? "" : " One of: \(allowed.joined(separator: ", "))." }

    /// One line for `run --list-stages`: `key (type) — help …`.
    public var listing: String { "\(key) (\(type.rawValue)): \(fullHelp)" }

    /// Throws unless `value` is one of `allowed` (any value when `allowed` is empty).
    public func check(_ value: String) throws(CoreError) {
        guard allowed.isEmpty || allowed.contains(value) else {
            throw .invalidValue(name: key, expected: "one of \(allowed.joined(separator: ", "))", found: "'\(value)'")
        }
    }
}

extension Array where Element == StageParameter {
    /// The pipeline keys of the table.
    public var keys: [String] { map(\.key) }

    /// The keys of its file parameters.
    public var fileKeys: [String] { filter { $0.type == .file }.map(\.key) }

    /// The parameter with pipeline key `key`; a key missing from the table is a programming error.
    public subscript(key key: String) -> StageParameter {
        guard let found = first(where: { $0.key == key }) else { preconditionFailure("no parameter '\(key)' in the table") }
        return found
    }
}
