import BioEmbedCore
import Foundation

/// A readable tree of an HDF5 file: groups, datasets with shape, dtype, chunking and filters,
/// attributes, and for collections (groups with an `ids` dataset) the item count and a few ids.
public enum HDF5Inspector {
    public static func describe(_ file: HDF5File, maxIDs: Int = 5) throws(HDF5Error) -> String {
        var lines: [String] = []
        let size = (try? FileManager.default.attributesOfItem(atPath: file.path)[.size] as? Int) ?? 0
        lines.append("\(file.path)  (HDF5, \(formatBytes(size)))")
        let root = file.root
        lines += attributeLines(root, indent: "  ")
        var visited = Set<UInt64>()
        if let address = file.root.objectAddress(of: ".") { visited.insert(address) }
        try walk(root, prefix: "", into: &lines, maxIDs: maxIDs, visited: &visited)
        return lines.joined(separator: "\n")
    }

    private static func walk(_ group: HDF5Group, prefix: String, into lines: inout [String], maxIDs: Int, visited: inout Set<UInt64>) throws(HDF5Error) {
        let children = try group.children()
        for (index, child) in children.enumerated() {
            let last = index == children.count - 1
            let branch = prefix + (last ? "└── " : "├── ")
            let nextPrefix = prefix + (last ? "    " : "│   ")
            switch child.kind {
            case .group:
                // every group once: hard or soft links back to a parent would otherwise loop forever
                if let address = group.objectAddress(of: child.name), !visited.insert(address).inserted {
                    lines.append(branch + child.name + "/  (a further link to a group shown above)")
                    continue
                }
                let sub = try group.group(child.name)
                var line = branch + child.name + "/"
                if sub.kind(of: "ids") == .dataset, let ids = try? sub.dataset("ids").readStrings() {
                    let shown = ids.prefix(maxIDs).joined(separator: ", ")
                    line += "  collection: \(ids.count) item\(ids.count == 1 ? "" : "s")" + (ids.isEmpty ? "" : " (\(shown)\(ids.count > maxIDs ? ", ..." : ""))")
                }
                lines.append(line)
                lines += attributeLines(sub, indent: nextPrefix + "  ")
                try walk(sub, prefix: nextPrefix, into: &lines, maxIDs: maxIDs, visited: &visited)
            case .dataset:
                let dataset = try group.dataset(child.name)
                var line = branch + child.name + "  " + dataset.typeName + " " + shapeText(dataset)
                if let chunks = dataset.chunks { line += "  chunks \(chunks)" } else { line += "  contiguous" }
                let filters = dataset.filters
                if !filters.isEmpty { line += "  filters " + filters.joined(separator: "+") }
                lines.append(line)
                lines += attributeLines(dataset, indent: nextPrefix + "  ")
            case .other:
                lines.append(branch + child.name + "  (link or unsupported object)")
            }
        }
    }

    private static func shapeText(_ dataset: HDF5Dataset) -> String {
        let shape = dataset.shape
        let maximum = dataset.maxShape
        let parts = shape.enumerated().map { index, size in
            index < maximum.count && maximum[index] == nil ? "\(size)/∞" : "\(size)"
        }
        return "[" + parts.joined(separator: ", ") + "]"
    }

    /// Attributes shown per object; the rest are counted.
    static let maximumAttributesShown = 64

    private static func attributeLines(_ node: some HDF5Node, indent: String) -> [String] {
        guard let names = try? node.attributeNames(), !names.isEmpty else { return [] }
        var lines = names.prefix(maximumAttributesShown).map { name in
            let value = (try? node.attribute(name)).map(format) ?? "(unreadable)"
            return "\(indent)@\(name) = \(value)"
        }
        if names.count > maximumAttributesShown { lines.append("\(indent)... and \(names.count - maximumAttributesShown) more attributes") }
        return lines
    }

    static func format(_ value: MetadataValue) -> String {
        switch value {
        case let .string(text):
            let flat = text.replacingOccurrences(of: "\n", with: " ")
            return "\"" + (flat.count > 100 ? String(flat.prefix(97)) + "..." : flat) + "\""
        case let .int(n): return "\(n)"
        case let .double(x): return "\(x)"
        case let .ints(v): return "\(v.prefix(10))" + (v.count > 10 ? "..." : "")
        case let .doubles(v): return "\(v.prefix(10))" + (v.count > 10 ? "..." : "")
        }
    }

    public static func formatBytes(_ count: Int) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var value = Double(count)
        var unit = 0
        while value >= 1024 && unit < units.count - 1 { value /= 1024; unit += 1 }
        return unit == 0 ? "\(count) B" : String(format: "%.1f %@", value, units[unit])
    }
}
