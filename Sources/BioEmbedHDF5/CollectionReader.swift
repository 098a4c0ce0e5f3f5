import BioEmbedCore

/// Reads a ragged collection (docs/layout.md): ids, per-item arrays and the rows of one item.
public final class CollectionReader {
    public let group: HDF5Group
    public let ids: [String]
    private var offsetCache: [String: [Int64]] = [:]
    fileprivate var datasetCache: [String: HDF5Dataset] = [:]

    /// Opens a collection; its ids must be unique (a crafted or corrupt file could repeat one, and
    /// every stage writes its results by id).
    public init(_ group: HDF5Group) throws(HDF5Error) {
        self.group = group
        ids = try group.dataset("ids").readStrings()
        var seen = Set<String>()
        seen.reserveCapacity(ids.count)
        for id in ids where !seen.insert(id).inserted {
            throw HDF5Error.shapeMismatch(
                file: group.file.path, object: "\(group.path)/ids", expected: "unique ids", found: "'\(id)' more than once")
        }
    }

    public var count: Int { ids.count }

    /// The offsets array `name` (`[N+1]`, int64), validated: starts at 0, never decreases.
    public func offsets(_ name: String) throws(HDF5Error) -> [Int64] {
        if let cached = offsetCache[name] { return cached }
        let values: [Int64] = try group.dataset(name).read()
        guard values.count == ids.count + 1, values.first == 0, zip(values, values.dropFirst()).allSatisfy({ $0 <= $1 }) else {
            throw HDF5Error.shapeMismatch(
                file: group.file.path, object: "\(group.path)/\(name)", expected: "[\(ids.count + 1)] non-decreasing offsets from 0",
                found: "\(values.count) values starting at \(values.first.map(String.init) ?? "none")")
        }
        offsetCache[name] = values
        return values
    }

    /// Rows of item `index` in a ragged dataset whose offsets are `offsets`.
    public func rows<Scalar: HDF5Scalar>(_ dataset: String, offsets offsetsName: String, item index: Int, as _: Scalar.Type = Scalar.self) throws(HDF5Error) -> [Scalar] {
        let table = try offsets(offsetsName)
        return try group.dataset(dataset).readRows(Int(table[index])..<Int(table[index + 1]))
    }
}

extension CollectionReader {
    /// Item `index` as a record of `fields` (the inverse of `CollectionWriter.append`), for
    /// merging and resuming.
    public func record(_ index: Int, fields: [FieldSpec]) throws(HDF5Error) -> ItemRecord {
        var values: [String: FieldData] = [:]
        for field in fields {
            let rows: Range<Int>
            switch field.layout {
            case .perItem:
                rows = index..<(index + 1)
            case let .ragged(offsetsName, _):
                let table = try offsets(offsetsName)
                rows = Int(table[index])..<Int(table[index + 1])
            }
            let dataset = try datasetHandle(field.name)
            switch field.type {
            case .float32: values[field.name] = .float32(try dataset.readRows(rows))
            case .float64: values[field.name] = .float64(try dataset.readRows(rows))
            case .int32: values[field.name] = .int32(try dataset.readRows(rows))
            case .int64: values[field.name] = .int64(try dataset.readRows(rows))
            case .uint8: values[field.name] = .uint8(try dataset.readRows(rows))
            case .string: values[field.name] = .strings(try dataset.readStrings(rows: rows))
            }
        }
        return ItemRecord(id: ids[index], values: values)
    }

    func datasetHandle(_ name: String) throws(HDF5Error) -> HDF5Dataset {
        if let open = datasetCache[name] { return open }
        let dataset = try group.dataset(name)
        datasetCache[name] = dataset
        return dataset
    }
}
