import BioEmbedCore

/// Writes a ragged collection (docs/layout.md) item by item, without holding the dataset in memory.
///
/// The group gets `ids` plus one dataset per declared field; ragged fields get `<offsets>` `[N+1]`
/// int64 starting at 0. Records are validated as a whole before anything of them is buffered, so a
/// bad record never leaves a half-written item. Rows are buffered (about 4 MiB) and appended in
/// blocks; call `finish()` before committing the file.
public final class CollectionWriter {
    public let group: HDF5Group
    public let fields: [FieldSpec]
    public private(set) var count = 0

    private let idsDataset: HDF5Dataset
    private var datasets: [String: HDF5Dataset] = [:]
    private var appenders: [String: DeflateChunkAppender] = [:]
    private var offsetDatasets: [String: HDF5Dataset] = [:]
    private var offsetTotals: [String: Int64] = [:]
    private var pendingIDs: [String] = []
    private var pendingValues: [String: FieldData] = [:]
    private var pendingOffsets: [String: [Int64]] = [:]
    private var pendingBytes = 0
    private var seenIDs = Set<String>()
    private let flushBytes: Int

    /// Creates the collection group `name` below `parent` (it must not exist yet).
    public init(in parent: HDF5Group, name: String, fields: [FieldSpec], flushBytes: Int = 4 << 20) throws(HDF5Error) {
        self.fields = fields
        self.flushBytes = flushBytes
        group = try parent.createGroup(name)
        idsDataset = try group.createDataset("ids", type: .string, shape: [0], chunks: [1024], appendable: true)
        for field in fields {
            guard field.name != "ids" else {
                throw HDF5Error.shapeMismatch(file: group.file.path, object: group.path, expected: "no field named 'ids' (reserved)", found: "a field named 'ids'")
            }
            let shape = [0] + field.rowShape
            datasets[field.name] = try group.createDataset(
                field.name, type: field.type, shape: shape,
                chunks: Self.chunks(for: field),
                compressed: field.compressed, appendable: true, stringWidth: field.fixedWidth)
            pendingValues[field.name] = .empty(field.type)
            if field.compressed && field.type != .string {
                // numeric compressed fields: whole chunks deflated by ISA-L and written directly
                appenders[field.name] = DeflateChunkAppender(
                    dataset: datasets[field.name]!, chunkRows: Self.chunks(for: field)[0], rowWidth: field.rowWidth,
                    elementSize: field.type.byteWidth)
            }
            if case let .ragged(offsets, _) = field.layout, offsetDatasets[offsets] == nil {
                let dataset = try group.createDataset(offsets, type: .int64, shape: [0], chunks: [4096], appendable: true)
                try dataset.append([Int64(0)])
                offsetDatasets[offsets] = dataset
                offsetTotals[offsets] = 0
                pendingOffsets[offsets] = []
            }
        }
    }

    /// Chunk shape for a field: about 64 KiB for per-item arrays (one row per item, so small
    /// collections stay small), about 256 KiB for ragged arrays (many rows per item).
    static func chunks(for field: FieldSpec) -> [Int] {
        let rowBytes = max(1, field.rowWidth * field.type.byteWidth)
        let target: Int
        switch field.layout {
        case .perItem: target = 64 << 10
        case .ragged: target = 256 << 10
        }
        return [max(1, min(16_384, target / rowBytes))] + field.rowShape
    }

    /// Appends one item. Throws (and writes nothing of it) when the record does not fit the fields.
    public func append(_ record: ItemRecord) throws(HDF5Error) {
        let object = "\(group.path) item '\(record.id)'"
        let file = group.file.path
        guard !seenIDs.contains(record.id) else {
            throw HDF5Error.shapeMismatch(file: file, object: object, expected: "a unique id", found: "a second item with this id")
        }
        // HDF5 strings end at a NUL: 'A\0B' and 'A\0C' would both be stored as 'A'
        guard !record.id.isEmpty, !record.id.unicodeScalars.contains("\0") else {
            throw HDF5Error.shapeMismatch(file: file, object: object, expected: "a non-empty id without NUL characters", found: "'\(record.id.replacingOccurrences(of: "\0", with: "\\0"))'")
        }
        for (name, value) in record.values {
            if case let .strings(strings) = value, strings.contains(where: { $0.unicodeScalars.contains("\0") }) {
                throw HDF5Error.shapeMismatch(file: file, object: "\(object) field '\(name)'", expected: "strings without NUL characters", found: "a NUL")
            }
        }
        var raggedRows: [String: Int] = [:]
        for field in fields {
            guard let value = record.values[field.name] else {
                throw HDF5Error.shapeMismatch(file: file, object: object, expected: "a value for '\(field.name)'", found: "none")
            }
            guard value.type == field.type else {
                throw HDF5Error.typeMismatch(file: file, object: "\(object) field '\(field.name)'", expected: field.type.rawValue, found: value.type.rawValue)
            }
            if let limit = field.fixedWidth, case let .strings(strings) = value,
               let long = strings.first(where: { $0.utf8.count > limit || $0.utf8.contains { $0 >= 0x80 } }) {
                throw HDF5Error.shapeMismatch(
                    file: file, object: "\(object) field '\(field.name)'", expected: "ASCII strings of at most \(limit) byte(s)", found: "'\(long.prefix(20))'")
            }
            let width = field.rowWidth
            switch field.layout {
            case .perItem:
                guard value.count == width else {
                    throw HDF5Error.shapeMismatch(
                        file: file, object: "\(object) field '\(field.name)'", expected: "\(field.rowShape) (\(width) values)", found: "\(value.count) values")
                }
            case let .ragged(offsets, _):
                guard width > 0, value.count % width == 0 else {
                    throw HDF5Error.shapeMismatch(
                        file: file, object: "\(object) field '\(field.name)'", expected: "whole rows of \(field.rowShape)", found: "\(value.count) values")
                }
                let rows = value.count / width
                if let other = raggedRows[offsets], other != rows {
                    throw HDF5Error.shapeMismatch(
                        file: file, object: "\(object) field '\(field.name)'", expected: "\(other) rows (shares '\(offsets)')", found: "\(rows) rows")
                }
                raggedRows[offsets] = rows
            }
        }
        // every field has a value (checked above), so more values than fields means an undeclared one
        if record.values.count > fields.count,
           let name = Set(record.values.keys).subtracting(fields.map(\.name)).sorted().first {
            throw HDF5Error.shapeMismatch(file: file, object: object, expected: "only declared fields", found: "undeclared field '\(name)'")
        }
        // Valid: buffer it.
        seenIDs.insert(record.id)
        pendingIDs.append(record.id)
        pendingBytes += record.id.utf8.count + 16
        for field in fields {
            let value = record.values[field.name]!
            pendingValues[field.name]!.append(contentsOf: value)
            pendingBytes += value.count * field.type.byteWidth
        }
        for (offsets, rows) in raggedRows {
            offsetTotals[offsets]! += Int64(rows)
            pendingOffsets[offsets]!.append(offsetTotals[offsets]!)
        }
        count += 1
        if pendingBytes >= flushBytes || pendingIDs.count >= 4096 { try flush() }
    }

    /// Appends items `range` of another collection with the same fields as one block: one read
    /// per field instead of one per item and field (merging parts, where items come in runs).
    public func append(contentsOf reader: CollectionReader, items range: Range<Int>) throws(HDF5Error) {
        guard !range.isEmpty else { return }
        let ids = reader.ids[range]
        if let repeated = ids.first(where: { seenIDs.contains($0) }) {
            throw HDF5Error.shapeMismatch(file: group.file.path, object: "\(group.path) item '\(repeated)'", expected: "a unique id", found: "a second item with this id")
        }
        var tables: [String: [Int64]] = [:]
        for field in fields {
            let rows: Range<Int>
            switch field.layout {
            case .perItem:
                rows = range
            case let .ragged(offsetsName, _):
                if tables[offsetsName] == nil { tables[offsetsName] = try reader.offsets(offsetsName) }
                let table = tables[offsetsName]!
                rows = Int(table[range.lowerBound])..<Int(table[range.upperBound])
            }
            let dataset = try reader.datasetHandle(field.name)
            let block: FieldData
            switch field.type {
            case .float32: block = .float32(try dataset.readRows(rows))
            case .float64: block = .float64(try dataset.readRows(rows))
            case .int32: block = .int32(try dataset.readRows(rows))
            case .int64: block = .int64(try dataset.readRows(rows))
            case .uint8: block = .uint8(try dataset.readRows(rows))
            case .string: block = .strings(try dataset.readStrings(rows: rows))
            }
            guard block.count == rows.count * field.rowWidth else {
                throw HDF5Error.shapeMismatch(
                    file: reader.group.file.path, object: "\(reader.group.path)/\(field.name)", expected: "\(rows.count * field.rowWidth) values", found: "\(block.count)")
            }
            pendingValues[field.name]!.append(contentsOf: block)
            pendingBytes += block.count * field.type.byteWidth
        }
        for (offsetsName, table) in tables {
            for k in range {
                offsetTotals[offsetsName]! += table[k + 1] - table[k]
                pendingOffsets[offsetsName]!.append(offsetTotals[offsetsName]!)
            }
        }
        for id in ids {
            seenIDs.insert(id)
            pendingIDs.append(id)
            pendingBytes += id.utf8.count + 16
        }
        count += range.count
        if pendingBytes >= flushBytes || pendingIDs.count >= 4096 { try flush() }
    }

    /// Writes buffered rows to the file.
    public func flush() throws(HDF5Error) {
        guard !pendingIDs.isEmpty else { return }
        // buffers of an ordinary block keep their storage for the next one; an outsized block (one
        // huge record) gives it back
        let keepStorage = pendingBytes <= 2 * flushBytes
        func reset(_ name: String) {
            if keepStorage { pendingValues[name]!.removeAllKeepingCapacity() } else { pendingValues[name] = .empty(pendingValues[name]!.type) }
        }
        try idsDataset.appendStrings(pendingIDs)
        pendingIDs.removeAll(keepingCapacity: true)
        for field in fields {
            let dataset = datasets[field.name]!
            if let appender = appenders[field.name] {
                let rows = pendingValues[field.name]!.count / max(field.rowWidth, 1)
                func feed<T>(_ values: [T]) throws(HDF5Error) {
                    var failure: HDF5Error?
                    values.withUnsafeBytes { bytes in
                        guard let base = bytes.baseAddress else { return }
                        do throws(HDF5Error) { try appender.append(base, rows: rows) } catch { failure = error }
                    }
                    if let failure { throw failure }
                }
                switch pendingValues[field.name]! {
                case let .float32(v): try feed(v)
                case let .float64(v): try feed(v)
                case let .int32(v): try feed(v)
                case let .int64(v): try feed(v)
                case let .uint8(v): try feed(v)
                case .strings: break
                }
                reset(field.name)
                continue
            }
            switch pendingValues[field.name]! {
            case let .float32(v): try dataset.append(v)
            case let .float64(v): try dataset.append(v)
            case let .int32(v): try dataset.append(v)
            case let .int64(v): try dataset.append(v)
            case let .uint8(v): try dataset.append(v)
            case let .strings(v):
                if field.fixedWidth != nil { try dataset.appendFixedStrings(v) } else { try dataset.appendStrings(v) }
            }
            reset(field.name)
        }
        for (name, values) in pendingOffsets where !values.isEmpty {
            try offsetDatasets[name]!.append(values)
            pendingOffsets[name] = []
        }
        pendingBytes = 0
    }

    /// Flushes what is buffered; the collection is then complete.
    public func finish() throws(HDF5Error) {
        try flush()
        for appender in appenders.values { try appender.finish() }
    }
}
