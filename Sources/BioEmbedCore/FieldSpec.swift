/// One array of a collection (contract.md "Collections"), declared before items are appended.
///
/// - `perItem(rowShape:)`: one fixed-size array per item, stacked as `[N, rowShape...]`
///   (`rowShape == []` gives `[N]`).
/// - `ragged(offsets:rowShape:)`: a variable number of rows per item, concatenated along axis 0 as
///   `[ΣL, rowShape...]`, with `offsets` `[N+1]` int64. Several fields may share one offsets name;
///   they must then give the same row count for every item.
public struct FieldSpec: Sendable, Hashable, Codable {
    public enum Layout: Sendable, Hashable, Codable {
        case perItem(rowShape: [Int])
        case ragged(offsets: String, rowShape: [Int])
    }

    /// Path relative to the collection group, e.g. `"timeseries"` or `"graph/radius/edges"`.
    public var name: String
    public var type: ElementType
    public var layout: Layout
    /// Shuffle + gzip(4); use for ints, masks and tokens, not for full-entropy floats.
    public var compressed: Bool

    public init(_ name: String, _ type: ElementType, _ layout: Layout, compressed: Bool = false) {
        self.name = name
        self.type = type
        self.layout = layout
        self.compressed = compressed
    }

    /// Elements per row (product of `rowShape`).
    public var rowWidth: Int {
        switch layout {
        case let .perItem(shape), let .ragged(_, shape): shape.reduce(1, *)
        }
    }

    public var rowShape: [Int] {
        switch layout {
        case let .perItem(shape), let .ragged(_, shape): shape
        }
    }
}
