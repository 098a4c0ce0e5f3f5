import BioEmbedCore
import BioEmbedHDF5
import Foundation

/// Builds one file from the shard files of a sharded run (`run --shard I/N`, SLURM array tasks):
/// every collection's items in manifest order, `/errors` in manifest order, `/provenance` with the
/// inputs of all shards, and a done record, so the result equals a local run of the same pipeline
/// (timing attributes aside). Missing shards are reported, and what exists is still merged.
///
/// How a dataset is merged follows its layout in data-schemas/ (per item `[N, ...]`, ragged
/// `[sum(offsets), ...]` + offsets, or per collection, copied from the first shard); datasets a
/// schema does not list are per item when their first axis has one row per item.
public enum ShardMerge {
    public struct Report: Sendable {
        public var output: String
        public var items: Int
        public var failed: Int
        public var missingShards: [Int]
        /// Shards whose file exists but cannot be read (index, why): left out like missing ones,
        /// but reported as corrupt, not as missing.
        public var corruptShards: [(index: Int, reason: String)] = []
    }

    /// Opens shard `index`: the file, or nil with the shard listed as missing (no file) or corrupt
    /// (a file that does not open as HDF5, with the reason).
    static func openShard(_ path: String, index: Int, missing: inout [Int], corrupt: inout [(index: Int, reason: String)]) -> HDF5File? {
        guard FileManager.default.fileExists(atPath: path) else {
            missing.append(index)
            return nil
        }
        do { return try HDF5File.open(path) } catch {
            corrupt.append((index, "\(error)"))
            return nil
        }
    }

    /// Merges `<name>.shard-I-of-N.h5` for every output file of the pipeline into `<name>.h5`.
    /// A file written only by reduce stages has no shards: it is the reduce stage's file, renamed.
    /// A file written by per-shard stages gets the groups of the reduce stages that wrote into it.
    public static func merge(runner: LocalRunner, shards: Int) throws -> [Report] {
        try outputNames(runner).map { name in
            let folder = runner.outputDirectory
            let reduceFiles = runner.graph.nodes.filter { $0.kind == .reduce && $0.output == name }
                .map { PathText.joined(folder, LocalRunner.reduceFileName(stage: $0.stage, output: name)) }
            let sharded = runner.graph.nodes.contains { $0.kind != .reduce && $0.output == name }
            guard sharded else {
                let output = PathText.joined(folder, name)
                let merged = try HDF5File.create(output)
                try merged.root.setAttribute("merged_shards", .int(Int64(shards)))
                let failed = try addReduceResults(reduceFiles, into: merged, copyingRootAttributes: true)
                try merged.commit()
                return Report(output: output, items: 0, failed: failed, missingShards: [])
            }
            let manifest = try Manifest.load(self.manifest(of: name, runner: runner), requiredColumns: [])
            return try merge(name: name, folder: folder, shards: shards, manifest: manifest, reduceFiles: reduceFiles)
        }
    }

    /// The manifest whose rows a file's items come from (through the stages that wrote it).
    static func manifest(of name: String, runner: LocalRunner) -> String {
        var manifestOf: [String: String] = [:]
        for step in runner.plan {
            if let manifest = step.manifest { manifestOf[step.output] = manifest }
            if let input = step.input, let manifest = manifestOf[input] { manifestOf[step.output] = manifestOf[step.output] ?? manifest }
        }
        return manifestOf[name] ?? runner.spec.manifest
    }

    /// Adds the groups reduce stages wrote (their files, when present) to a merged file: every
    /// top-level group but `/errors` and `/provenance` replaces its namesake, error rows are appended,
    /// provenance groups copied. Returns the number of error rows added.
    static func addReduceResults(_ paths: [String], into merged: HDF5File, copyingRootAttributes: Bool = false) throws -> Int {
        var failed = 0
        for path in paths where FileManager.default.fileExists(atPath: path) {
            let file = try HDF5File.open(path)
            defer { file.close() }
            if copyingRootAttributes {
                for attribute in try file.root.attributeNames() where !merged.root.hasAttribute(attribute) {
                    try merged.root.setAttribute(attribute, try file.root.attribute(attribute))
                }
            }
            for child in try file.root.children() where child.kind == .group && child.name != "errors" && child.name != "provenance" {
                if merged.root.contains(child.name) { try merged.root.remove(child.name) }
                try copyGroup(child.name, from: file.root, to: merged.root)
            }
            failed += try mergeErrors(files: [0: file], rank: [:], into: merged)
            if file.root.kind(of: "provenance") == .group {
                let provenance = try merged.root.openOrCreateGroup("provenance")
                let source = try file.root.group("provenance")
                for child in try source.children() where child.kind == .group {
                    if provenance.contains(child.name) { try provenance.remove(child.name) }
                    try copyGroup(child.name, from: source, to: provenance)
                }
            }
        }
        return failed
    }

    /// Writes `<name>.virtual.h5` for every output of the pipeline: an index over the shard files
    /// (no data copied). Numeric per-item and ragged arrays are HDF5 virtual datasets over the
    /// shards, in shard order (shard 0's items, then shard 1's, ...); ids, strings and offsets are
    /// written out. The shard files must stay next to the index. Missing shards are left out and
    /// listed in the root attribute `missing_shards`.
    public static func virtualIndex(runner: LocalRunner, shards count: Int) throws -> [Report] {
        return try outputNames(runner).map { name in
            let folder = runner.outputDirectory
            let stem = (name as NSString).deletingPathExtension
            let output = PathText.joined(folder, stem + ".virtual.h5")
            var files: [(index: Int, name: String, file: HDF5File)] = []
            var missing: [Int] = []
            var corrupt: [(index: Int, reason: String)] = []
            for index in 0..<count {
                let path = shardPath(folder, name, index, count)
                if let file = openShard(path, index: index, missing: &missing, corrupt: &corrupt) {
                    files.append((index, (path as NSString).lastPathComponent, file))
                }
            }
            defer { files.forEach { $0.file.close() } }
            guard let first = files.first?.file else {
                throw CoreError.unreadable(file: shardPath(folder, name, 0, count), reason: "none of the \(count) shards of \(name) could be read (\(missing.count) missing, \(corrupt.count) corrupt)")
            }
            let index = try HDF5File.create(output, virtualDatasets: true)
            for attribute in try first.root.attributeNames() { try index.root.setAttribute(attribute, try first.root.attribute(attribute)) }
            try index.root.setAttribute("virtual_shards", .int(Int64(count)))
            try index.root.setAttribute("missing_shards", .ints(missing.map(Int64.init)))
            try index.root.setAttribute("corrupt_shards", .ints(corrupt.map { Int64($0.index) }))
            var items = 0
            for path in collections(in: first.root) {
                let present = files.filter { $0.file.root.kind(of: path) == .group }
                let firstGroup = try present[0].file.root.group(path)
                let (fields, constants) = try classify(firstGroup, path: path)
                let target = try index.root.createGroup(path)
                for attribute in try firstGroup.attributeNames() { try target.setAttribute(attribute, try firstGroup.attribute(attribute)) }
                let readers = try present.map { try CollectionReader($0.file.root.group(path)) }
                let ids = readers.flatMap(\.ids)
                try target.writeStrings("ids", ids)
                items = max(items, ids.count)
                var offsetsWritten = Set<String>()
                for field in fields {
                    let rows = try present.map { try $0.file.root.group(path).dataset(field.name).shape.first ?? 0 }
                    if field.type == .string {
                        var all: [String] = []
                        for entry in present { all += try entry.file.root.group(path).dataset(field.name).readStrings() }
                        try target.writeStrings(field.name, all)
                    } else {
                        try target.createVirtualDataset(
                            field.name, type: field.type, rowShape: field.rowShape,
                            sources: zip(present, rows).map { (file: $0.name, dataset: "/" + path + "/" + field.name, rows: $1) })
                    }
                    if case let .ragged(offsetsName, _) = field.layout, offsetsWritten.insert(offsetsName).inserted {
                        var combined: [Int64] = [0]
                        for reader in readers {
                            let table = try reader.offsets(offsetsName)
                            let base = combined.last!
                            combined += table.dropFirst().map { $0 + base }
                        }
                        try target.write(offsetsName, combined)
                    }
                }
                for name in constants { try copyDataset(name, from: firstGroup, to: target) }
            }
            let failed = try mergeErrors(files: Dictionary(uniqueKeysWithValues: files.map { ($0.index, $0.file) }), rank: [:], into: index)
            try index.commit()
            return Report(output: output, items: items, failed: failed, missingShards: missing, corruptShards: corrupt)
        }
    }

    /// The files a pipeline writes, each once, in stage order.
    static func outputNames(_ runner: LocalRunner) -> [String] {
        var names: [String] = []
        for step in runner.plan where !names.contains(step.output) { names.append(step.output) }
        return names
    }

    static func shardPath(_ folder: String, _ name: String, _ index: Int, _ count: Int) -> String {
        let stem = (name as NSString).deletingPathExtension
        let ext = (name as NSString).pathExtension
        return PathText.joined(folder, "\(stem).shard-\(index)-of-\(count)" + (ext.isEmpty ? "" : ".\(ext)"))
    }

    /// Merges the shards of one file into `into` (default: `<folder>/<name>`), adding `reduceFiles`.
    static func merge(name: String, folder: String, shards count: Int, manifest: Manifest, into target: String? = nil,
                      reduceFiles: [String] = []) throws -> Report {
        let output = target ?? PathText.joined(folder, name)
        var files: [Int: HDF5File] = [:]
        var records: [Int: DoneRecord] = [:]
        var missing: [Int] = []
        var corrupt: [(index: Int, reason: String)] = []
        for index in 0..<count {
            let path = shardPath(folder, name, index, count)
            guard let file = openShard(path, index: index, missing: &missing, corrupt: &corrupt) else { continue }
            files[index] = file
            records[index] = DoneRecord.load(path + ".done.json")
        }
        defer { files.values.forEach { $0.close() } }
        guard let first = files.keys.min().flatMap({ files[$0] }) else {
            throw CoreError.unreadable(file: shardPath(folder, name, 0, count), reason: "none of the \(count) shards of \(name) could be read (\(missing.count) missing, \(corrupt.count) corrupt)")
        }

        // Global order: manifest order of inputs, each input's outputs in its shard's order.
        var order: [String] = []
        var rank: [String: Int] = [:]
        var mergedItems: [DoneRecord.Item] = []
        for item in manifest.items {
            guard let record = records[item.index % count], let entry = record.items.first(where: { $0.id == item.id }) else { continue }
            mergedItems.append(entry)
            rank[item.id] = item.index
            for id in entry.outputs ?? [] {
                order.append(id)
                rank[id] = item.index
            }
            for failure in entry.failures ?? [] { rank[failure.id] = item.index }
        }

        let merged = try HDF5File.create(output)
        for attribute in try first.root.attributeNames() { try merged.root.setAttribute(attribute, try first.root.attribute(attribute)) }
        try merged.root.setAttribute("merged_shards", .int(Int64(count)))
        try merged.root.setAttribute("missing_shards", .ints(missing.map(Int64.init)))
        try merged.root.setAttribute("corrupt_shards", .ints(corrupt.map { Int64($0.index) }))
        var itemCount = 0
        for path in collections(in: first.root) {
            itemCount = max(itemCount, try mergeCollection(path, files: files, order: order, into: merged))
        }
        var failed = try mergeErrors(files: files, rank: rank, into: merged)
        try mergeProvenance(files: files, into: merged)
        failed += try addReduceResults(reduceFiles, into: merged)
        try merged.commit()
        if !mergedItems.isEmpty, let stage = records.values.first?.stage {
            try DoneRecord(stage: stage, file: name, items: mergedItems).save(output + ".done.json")
        }
        return Report(output: output, items: itemCount, failed: failed, missingShards: missing, corruptShards: corrupt)
    }

    /// Collection groups (groups with an `ids` dataset), outside /errors and /provenance, each before
    /// the collections nested in it (`/fmri/connectivity` after `/fmri`).
    static func collections(in root: HDF5Group) -> [String] {
        var found: [String] = []
        func walk(_ group: HDF5Group, _ prefix: String) {
            for child in (try? group.children()) ?? [] where child.kind == .group {
                let path = prefix.isEmpty ? child.name : prefix + "/" + child.name
                if prefix.isEmpty && (child.name == "errors" || child.name == "provenance") { continue }
                guard let sub = try? group.group(child.name) else { continue }
                if sub.kind(of: "ids") == .dataset { found.append(path) }
                walk(sub, path)
            }
        }
        walk(root, "")
        return found
    }

    /// Dataset paths below a collection group (not descending into nested collections).
    static func datasets(in group: HDF5Group, _ prefix: String = "") -> [String] {
        var found: [String] = []
        for child in (try? group.children()) ?? [] {
            let path = prefix.isEmpty ? child.name : prefix + "/" + child.name
            if child.kind == .dataset {
                found.append(path)
            } else if child.kind == .group, let sub = try? group.group(child.name), sub.kind(of: "ids") != .dataset {
                found += datasets(in: sub, path)
            }
        }
        return found
    }

    /// Merges one collection; returns its item count.
    static func mergeCollection(_ path: String, files: [Int: HDF5File], order: [String], into merged: HDF5File) throws -> Int {
        let shardIndices = files.keys.sorted()
        let firstGroup = try files[shardIndices[0]]!.root.group(path)
        let (fields, constants) = try classify(firstGroup, path: path)
        // Where each id is.
        var location: [String: (shard: Int, row: Int)] = [:]
        var readers: [Int: CollectionReader] = [:]
        var leftovers: [String] = []
        let known = Set(order)
        for index in shardIndices {
            guard files[index]!.root.kind(of: path) == .group else { continue }
            let reader = try CollectionReader(try files[index]!.root.group(path))
            readers[index] = reader
            for (row, id) in reader.ids.enumerated() {
                location[id] = (index, row)
                if !known.contains(id) { leftovers.append(id) }
            }
        }
        let writer = try CollectionWriter(in: merged.root, name: path, fields: fields)
        for attribute in try firstGroup.attributeNames() { try writer.group.setAttribute(attribute, try firstGroup.attribute(attribute)) }
        for id in order.filter({ location[$0] != nil }) + leftovers {
            let (shard, row) = location[id]!
            try writer.append(try readers[shard]!.record(row, fields: fields))
        }
        try writer.finish()
        for name in constants { try copyDataset(name, from: firstGroup, to: writer.group) }
        for field in fields {
            let source = try firstGroup.dataset(field.name)
            let target = try writer.group.dataset(field.name)
            for attribute in try source.attributeNames() { try target.setAttribute(attribute, try source.attribute(attribute)) }
        }
        return writer.count
    }

    /// How each dataset of a collection merges: per item / ragged fields, or constants copied once.
    static func classify(_ firstGroup: HDF5Group, path: String) throws -> (fields: [FieldSpec], constants: [String]) {
        // The schema of the collection, or of the collection it is nested in: its rules are then
        // matched below the nested path (`/fmri/connectivity`: the rules `connectivity/...`), where
        // `N` and `sum(...)` refer to the nested collection's own ids and offsets.
        let mine = path.split(separator: "/").map(String.init)
        var nestedPrefix: [String] = []
        var schema: CollectionSchema?
        for candidate in LayoutSchemas.all {
            let parts = candidate.group.split(separator: "/").map(String.init)
            guard parts.count <= mine.count, zip(parts, mine).allSatisfy({ $0 == "*" || $0 == $1 }) else { continue }
            schema = candidate
            nestedPrefix = Array(mine.dropFirst(parts.count))
            if nestedPrefix.isEmpty { break }
        }
        let rules = CollectionSchema.rules(schema?.datasets ?? [], below: nestedPrefix)
        // Classify every dataset.
        var fields: [FieldSpec] = []
        var constants: [String] = []
        let names = datasets(in: firstGroup).filter { $0 != "ids" }
        let n = try firstGroup.dataset("ids").shape.first ?? 0
        for name in names {
            let dataset = try firstGroup.dataset(name)
            guard let type = dataset.elementType else { constants.append(name); continue }
            let shape = dataset.shape
            let rule = rules.first { rulePath in matches(rulePath.path, name) }
            let firstAxis: String? = rule.flatMap { if case let .symbol(s) = $0.shape.first { return s } else { return nil } }
            if rule?.offsets == true || (rule == nil && name.hasSuffix("_offsets") && shape == [n + 1]) {
                continue  // rebuilt by the writer
            } else if let axis = firstAxis, axis.hasPrefix("sum("), axis.hasSuffix(")") {
                fields.append(FieldSpec(name, type, .ragged(offsets: String(axis.dropFirst(4).dropLast()), rowShape: Array(shape.dropFirst())),
                                        fixedWidth: dataset.fixedStringWidth))
            } else if firstAxis == "N" || (rule == nil && shape.first == n && !shape.isEmpty) {
                fields.append(FieldSpec(name, type, .perItem(rowShape: Array(shape.dropFirst())), compressed: !dataset.filters.isEmpty,
                                        fixedWidth: dataset.fixedStringWidth))
            } else if rule == nil, names.contains(name + "_offsets") {
                fields.append(FieldSpec(name, type, .ragged(offsets: name + "_offsets", rowShape: Array(shape.dropFirst())),
                                        fixedWidth: dataset.fixedStringWidth))
            } else {
                constants.append(name)
            }
        }
        return (fields, constants)
    }

    static func matches(_ pattern: String, _ name: String) -> Bool {
        let p = pattern.split(separator: "/"), n = name.split(separator: "/")
        return p.count == n.count && zip(p, n).allSatisfy { $0 == "*" || $0 == $1 }
    }

    /// Copies a group with its attributes, datasets and subgroups (value by value: H5Ocopy of
    /// variable-length string attributes crashes in Debian's HDF5 1.10).
    static func copyGroup(_ name: String, from source: HDF5Group, to target: HDF5Group) throws {
        let from = try source.group(name)
        let to = try target.createGroup(name)
        for attribute in try from.attributeNames() { try to.setAttribute(attribute, try from.attribute(attribute)) }
        for child in try from.children() {
            switch child.kind {
            case .dataset: try copyDataset(child.name, from: from, to: to)
            case .group: try copyGroup(child.name, from: from, to: to)
            case .other: continue
            }
        }
    }

    static func copyDataset(_ name: String, from source: HDF5Group, to target: HDF5Group) throws {
        let dataset = try source.dataset(name)
        let shape = dataset.shape
        let copy: HDF5Dataset
        switch dataset.elementType {
        case .float32?: copy = try target.write(name, try dataset.read(as: Float.self), shape: shape)
        case .float64?: copy = try target.write(name, try dataset.read(as: Double.self), shape: shape)
        case .int32?: copy = try target.write(name, try dataset.read(as: Int32.self), shape: shape)
        case .int64?: copy = try target.write(name, try dataset.read(as: Int64.self), shape: shape)
        case .uint8?: copy = try target.write(name, try dataset.read(as: UInt8.self), shape: shape)
        case .string?: copy = try target.writeStrings(name, try dataset.readStrings())
        case nil: return
        }
        for attribute in try dataset.attributeNames() { try copy.setAttribute(attribute, try dataset.attribute(attribute)) }
    }

    static func mergeErrors(files: [Int: HDF5File], rank: [String: Int], into merged: HDF5File) throws -> Int {
        var rows: [(rank: Int, shard: Int, row: Int, id: String, stage: String, category: String, message: String)] = []
        for (index, file) in files where file.root.kind(of: "errors") == .group {
            let group = try file.root.group("errors")
            let ids = try group.dataset("ids").readStrings()
            let stages = try group.dataset("stage").readStrings()
            let messages = try group.dataset("message").readStrings()
            let categories = group.contains("category") ? try group.dataset("category").readStrings() : Array(repeating: "bad_input", count: ids.count)
            for row in ids.indices {
                rows.append((rank[ids[row]] ?? Int.max, index, row, ids[row], stages[row], categories[row], messages[row]))
            }
        }
        rows.sort { ($0.rank, $0.shard, $0.row) < ($1.rank, $1.shard, $1.row) }
        let log = ErrorLog(file: merged)
        for row in rows {
            try log.append(id: row.id, stage: row.stage, category: ErrorLog.Category(rawValue: row.category) ?? .badInput, message: row.message)
        }
        return rows.count
    }

    static func mergeProvenance(files: [Int: HDF5File], into merged: HDF5File) throws {
        var stages: [String: Provenance] = [:]
        var order: [String] = []
        for index in files.keys.sorted() {
            let file = files[index]!
            guard file.root.kind(of: "provenance") == .group else { continue }
            let group = try file.root.group("provenance")
            for child in try group.children() where child.kind == .group {
                let g = try group.group(child.name)
                let inputs = (try? JSONDecoder().decode([Provenance.Input].self, from: Data(g.stringAttribute("inputs").utf8))) ?? []
                let seconds: Double
                if case let .double(value)? = try? g.attribute("seconds") { seconds = value } else { seconds = 0 }
                if var existing = stages[child.name] {
                    existing.inputs += inputs
                    existing.seconds += seconds
                    existing.startedUTC = min(existing.startedUTC, (try? g.stringAttribute("started_utc")) ?? existing.startedUTC)
                    stages[child.name] = existing
                } else {
                    let version: Int
                    if case let .int(value)? = try? g.attribute("version") { version = Int(value) } else { version = 0 }
                    stages[child.name] = Provenance(
                        stage: child.name, version: version, parameters: (try? g.stringAttribute("parameters")) ?? "{}",
                        inputs: inputs, startedUTC: (try? g.stringAttribute("started_utc")) ?? "", seconds: seconds)
                    order.append(child.name)
                }
            }
        }
        for name in order {
            var provenance = stages[name]!
            var seen = Set<String>()
            provenance.inputs = provenance.inputs.filter { seen.insert($0.path).inserted }.sorted { $0.path < $1.path }
            try merged.writeProvenance(provenance)
        }
    }
}
