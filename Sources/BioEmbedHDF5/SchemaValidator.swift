import BioEmbedCore
import Foundation

/// Checks an HDF5 file against the layout schemas (data-schemas/), listing every problem found.
public struct SchemaValidator: Sendable {
    public let schemas: [CollectionSchema]

    public init(schemas: [CollectionSchema]) { self.schemas = schemas }

    /// What `validate` reports.
    public struct Report: Sendable {
        public var schema: String
        /// Collection group path → item count (nested collections after their parent).
        public var collections: [(path: String, items: Int)]
        public var problems: [String]
        public var isValid: Bool { problems.isEmpty }
    }

    public static let rootAttributes = ["bioembed_version", "schema", "created_utc", "command"]

    public func validate(_ file: HDF5File) -> Report {
        var problems: [String] = []
        var collections: [(String, Int)] = []
        let root = file.root
        for name in Self.rootAttributes {
            if !root.hasAttribute(name) {
                problems.append("root attribute '\(name)' is missing")
            } else if (try? root.stringAttribute(name)) == nil {
                problems.append("root attribute '\(name)': expected a string")
            }
        }
        let declared = (try? root.stringAttribute("schema")) ?? ""
        if !declared.isEmpty && !schemas.contains(where: { $0.schema == declared }) {
            problems.append("root attribute 'schema': expected one of \(schemas.map(\.schema).joined(separator: ", ")), found '\(declared)'")
        }
        for schema in schemas {
            let groups = matchingGroups(schema, in: root)
            if schema.schema == declared && groups.isEmpty {
                let top = String(schema.group.split(separator: "/").first ?? "")
                problems.append("/\(schema.group): the collection named by 'schema' (\(declared)) is "
                    + (root.passesExternalLink(top) ? "an external link into another file (not followed)" : "missing"))
            }
            for group in groups {
                var counts: [(String, Int)] = []
                let (items, found) = validate(group, against: schema, nestedCounts: &counts)
                problems += found
                collections.append((group.path, items))
                collections += counts
            }
        }
        problems += validateErrors(root) + validateProvenance(root)
        return Report(schema: declared, collections: collections, problems: problems)
    }

    private func matchingGroups(_ schema: CollectionSchema, in root: HDF5Group) -> [HDF5Group] {
        groups(schema.group.split(separator: "/").map(String.init), in: root, names: schema.group_names)
    }

    private func validate(_ group: HDF5Group, against schema: CollectionSchema, nestedCounts: inout [(String, Int)]) -> (Int, [String]) {
        var problems: [String] = []
        for (name, rule) in (schema.attributes ?? [:]).sorted(by: { $0.key < $1.key }) {
            problems += check(attribute: name, rule: rule, on: group)
        }
        let (items, found) = validate(group, rules: schema.datasets, inherited: [:], parentIDs: nil, nestedCounts: &nestedCounts)
        return (items, problems + found)
    }

    /// The nested collections among `rules`: the outermost paths `P` (segments may be `*`) with a
    /// rule `P/ids`. Their rules apply inside each group `P` names, where `N` is that group's count.
    static func nestedPrefixes(_ rules: [CollectionSchema.DatasetRule]) -> [[String]] {
        let all = rules.map(\.path).filter { $0.hasSuffix("/ids") }.map { $0.split(separator: "/").dropLast().map(String.init) }
        return all.filter { p in !all.contains { q in CollectionSchema.isPrefix(q, of: p) } }
    }

    /// One collection: its `ids`, the rules of its own datasets (symbols bound across them, on top
    /// of the parent's bindings), then each nested collection, whose ids must be a subsequence of
    /// this one's (a nested collection holds the items a later stage wrote, in the same order).
    private func validate(
        _ group: HDF5Group, rules: [CollectionSchema.DatasetRule], inherited: [String: Int], parentIDs: [String]?,
        nestedCounts: inout [(String, Int)]
    ) -> (Int, [String]) {
        var problems: [String] = []
        func problem(_ text: String) { problems.append("\(group.path): \(text)") }
        let nested = Self.nestedPrefixes(rules)
        let own = rules.filter { rule in !nested.contains { CollectionSchema.isPrefix($0, of: rule.path.split(separator: "/").map(String.init)) } }
        let ids: [String]
        do {
            guard group.kind(of: "ids") == .dataset else {
                problem("expected a 1-D string dataset 'ids', found " + (group.kind(of: "ids") == nil ? "none" : "another object or a link that is not followed"))
                return (0, problems)
            }
            ids = try group.dataset("ids").readStrings()
        } catch {
            problem("'ids' cannot be read: \(error)")
            return (0, problems)
        }
        let whole = own.first { $0.path == "ids" }?.whole
        if let parentIDs, !(whole != nil && ids == [whole!]) {
            var position = parentIDs.startIndex
            for id in ids {
                guard let found = parentIDs[position...].firstIndex(of: id) else {
                    problem("'ids': expected the parent collection's ids in its order, found '\(id)' out of place or not among them")
                    break
                }
                position = found + 1
            }
        }
        var bindings = inherited
        bindings["N"] = ids.count
        bindings["N+1"] = ids.count + 1
        var offsetTotals: [String: Int] = [:]
        // Offsets first, so `sum(...)` sizes are known.
        let ordered = own.filter { $0.offsets == true } + own.filter { $0.offsets != true }
        for rule in ordered {
            for (path, dataset) in expand(rule, in: group, problem: problem) {
                let object = "\(group.path)/\(path)"
                if let element = dataset.elementType?.rawValue {
                    if !rule.dtype.allowed.contains(element) {
                        problems.append("\(object): expected dtype \(rule.dtype.allowed.joined(separator: " or ")), found \(dataset.typeName)")
                    }
                } else {
                    problems.append("\(object): expected dtype \(rule.dtype.allowed.joined(separator: " or ")), found \(dataset.typeName)")
                }
                let shape = dataset.shape
                if shape.count != rule.shape.count {
                    problems.append("\(object): expected \(rule.shape.count) dimensions \(describe(rule.shape)), found shape \(shape)")
                    continue
                }
                for (axis, (entry, size)) in zip(rule.shape, shape).enumerated() {
                    switch entry {
                    case let .fixed(n) where n != size:
                        problems.append("\(object): axis \(axis): expected \(n), found \(size)")
                    case .fixed: break
                    case let .symbol(symbol):
                        if symbol == "*" { break }
                        if symbol.hasPrefix("sum("), symbol.hasSuffix(")") {
                            let offsets = String(symbol.dropFirst(4).dropLast())
                            if let total = offsetTotals[offsets], total != size {
                                problems.append("\(object): axis \(axis): expected \(total) rows (the last value of \(offsets)), found \(size)")
                            }
                        } else if let bound = bindings[symbol] {
                            if bound != size { problems.append("\(object): axis \(axis): expected \(symbol) = \(bound), found \(size)") }
                        } else {
                            bindings[symbol] = size
                        }
                    }
                }
                do {
                    if rule.unique == true, Set(try dataset.readStrings()).count != shape.first ?? 0 {
                        problems.append("\(object): expected unique values, found duplicates")
                    }
                    if rule.offsets == true {
                        let values = try dataset.read(as: Int64.self)
                        if values.first != 0 { problems.append("\(object): expected offsets starting at 0, found \(values.first.map(String.init) ?? "none")") }
                        if !zip(values, values.dropFirst()).allSatisfy({ $0 <= $1 }) {
                            problems.append("\(object): expected non-decreasing offsets")
                        }
                        offsetTotals[path] = Int(values.last ?? 0)
                    }
                    // Every value is read (a filter that is not available, a truncated chunk), in
                    // blocks of rows so memory stays bounded.
                    if let problem = try Self.readThrough(dataset, finite: rule.finite == true) { problems.append("\(object): \(problem)") }
                } catch {
                    problems.append("\(object): cannot be read: \(error)")
                }
                for (name, attributeRule) in (rule.attributes ?? [:]).sorted(by: { $0.key < $1.key }) {
                    problems += check(attribute: name, rule: attributeRule, on: dataset)
                }
            }
        }
        bindings["N"] = nil
        bindings["N+1"] = nil
        for prefix in nested {
            let inner = CollectionSchema.rules(rules, below: prefix)
            for sub in groups(prefix, in: group) {
                var deeper: [(String, Int)] = []
                let (items, found) = validate(sub, rules: inner, inherited: bindings, parentIDs: ids, nestedCounts: &deeper)
                problems += found
                nestedCounts.append((sub.path, items))
                nestedCounts += deeper
            }
        }
        return (ids.count, problems)
    }

    /// The existing groups a path of segments (`*` for any child, one of `names` when given) names
    /// below `group`.
    private func groups(_ parts: [String], in group: HDF5Group, names allowed: [String]? = nil) -> [HDF5Group] {
        var current = [group]
        for part in parts {
            current = current.flatMap { g -> [HDF5Group] in
                let names = part == "*"
                    ? ((try? g.children()) ?? []).filter { $0.kind == .group && allowed?.contains($0.name) != false }.map(\.name) : [part]
                return names.compactMap { g.kind(of: $0) == .group ? try? g.group($0) : nil }
            }
        }
        return current
    }

    /// Reads every row of a numeric dataset in blocks of about 16 MiB; with `finite`, returns the
    /// first row holding NaN or an infinity.
    static func readThrough(_ dataset: HDF5Dataset, finite: Bool) throws -> String? {
        let shape = dataset.shape
        guard let rows = shape.first, rows > 0, dataset.elementType != .string, dataset.elementType != nil else { return nil }
        // A shape is a claim: more data than the file could hold even compressed (deflate shrinks at
        // most 1032-fold) is refused before any of it is read.
        let fileSize = (try? FileManager.default.attributesOfItem(atPath: dataset.file.path)[.size] as? Int) ?? 0
        let elements = shape.reduce(1) { $0 > Int.max / max($1, 1) ? Int.max : $0 * $1 }
        if elements / 1032 > max(fileSize, 1 << 20) {
            return "expected no more data than the file's \(fileSize) bytes can hold, found shape \(shape)"
        }
        let width = max(1, shape.dropFirst().reduce(1, *))
        let block = max(1, (16 << 20) / (8 * width))
        var start = 0
        while start < rows {
            let range = start..<min(rows, start + block)
            if finite || dataset.elementType == .float64 || dataset.elementType == .float32 {
                let values: [Double] = try dataset.readRows(range)
                if finite, let bad = values.firstIndex(where: { !$0.isFinite }) {
                    return "expected finite values, found \(values[bad]) in row \(range.lowerBound + bad / width)"
                }
            } else {
                let _: [Int64] = try dataset.readRows(range)
            }
            start = range.upperBound
        }
        return nil
    }

    /// The datasets a rule names (a `*` in the path expands over existing children).
    private func expand(_ rule: CollectionSchema.DatasetRule, in group: HDF5Group, problem: (String) -> Void) -> [(String, HDF5Dataset)] {
        guard rule.path.contains("*") else {
            switch group.kind(of: rule.path) {
            case .dataset?:
                do { return [(rule.path, try group.dataset(rule.path))] } catch {
                    problem("'\(rule.path)' cannot be read: \(error)")
                }
            case nil, .group?:
                if rule.required ?? true { problem("expected a dataset '\(rule.path)', found none") }
            case .other?:
                problem("expected a dataset '\(rule.path)', found another object or a link that is not followed")
            }
            return []
        }
        let parts = rule.path.split(separator: "/").map(String.init)
        var prefixes = [""]
        for (index, part) in parts.enumerated() {
            let last = index == parts.count - 1
            var next: [String] = []
            for prefix in prefixes {
                let candidates: [String]
                if part == "*" {
                    let parent = prefix.isEmpty ? group : try? group.group(prefix)
                    candidates = ((try? parent?.children()) ?? []).map(\.name)
                        .filter { rule.names == nil || rule.names!.contains($0) }
                } else {
                    candidates = [part]
                }
                for name in candidates {
                    let path = prefix.isEmpty ? name : prefix + "/" + name
                    let kind = group.kind(of: path)
                    if (last && kind == .dataset) || (!last && kind == .group) { next.append(path) }
                }
            }
            prefixes = next
        }
        return prefixes.compactMap { path in (try? group.dataset(path)).map { (path, $0) } }
    }

    private func check(attribute name: String, rule: CollectionSchema.AttributeRule, on node: some HDF5Node) -> [String] {
        guard node.hasAttribute(name) else {
            return (rule.required ?? true) ? ["\(node.path): expected an attribute '\(name)' (\(rule.type)), found none"] : []
        }
        guard let value = try? node.attribute(name) else { return ["\(node.path): attribute '\(name)' cannot be read"] }
        let found: String
        switch value {
        case .string: found = "string"
        case .int: found = "int"
        case .double: found = "double"
        case .ints: found = "ints"
        case .doubles: found = "doubles"
        }
        let compatible = found == rule.type || (rule.type == "double" && found == "int") || (rule.type == "doubles" && found == "ints")
        return compatible ? [] : ["\(node.path): attribute '\(name)': expected \(rule.type), found \(found)"]
    }

    private func validateErrors(_ root: HDF5Group) -> [String] {
        guard root.kind(of: "errors") == .group, let errors = try? root.group("errors") else { return [] }
        var problems: [String] = []
        var lengths: [Int] = []
        for name in ["ids", "stage", "message", "category"] {
            guard errors.kind(of: name) == .dataset, let values = try? errors.dataset(name).readStrings() else {
                if name != "category" { problems.append("/errors: expected a string dataset '\(name)', found none") }
                continue
            }
            lengths.append(values.count)
        }
        if Set(lengths).count > 1 { problems.append("/errors: expected datasets of equal length, found lengths \(lengths)") }
        return problems
    }

    private func validateProvenance(_ root: HDF5Group) -> [String] {
        guard root.kind(of: "provenance") == .group, let provenance = try? root.group("provenance") else { return [] }
        var problems: [String] = []
        for child in (try? provenance.children()) ?? [] {
            guard child.kind == .group, let group = try? provenance.group(child.name) else { continue }
            let rules: [(String, String)] = [("parameters", "string"), ("inputs", "string"), ("version", "int"), ("started_utc", "string"), ("seconds", "double")]
            for (name, type) in rules {
                problems += check(attribute: name, rule: .init(type: type, required: true), on: group)
            }
            for name in ["parameters", "inputs"] {
                if let text = try? group.stringAttribute(name), (try? JSONSerialization.jsonObject(with: Data(text.utf8))) == nil {
                    problems.append("\(group.path): attribute '\(name)': expected JSON, found '\(text.prefix(40))'")
                }
            }
        }
        return problems
    }

    private func describe(_ shape: [CollectionSchema.ShapeEntry]) -> String {
        "[" + shape.map { if case let .fixed(n) = $0 { return String(n) } else if case let .symbol(s) = $0 { return s } else { return "?" } }.joined(separator: ", ") + "]"
    }
}
