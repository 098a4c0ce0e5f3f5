/// One array of a collection (docs/layout.md, "HDF5 files"), declared before items are appended.
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
    /// Shuffle + gzip level 1 (level 4 made merges 30 % slower for 1.5 % smaller files); use for ints,
    /// masks and tokens, not for full-entropy floats.
    public var compressed: Bool
    /// Strings only: stored as fixed-length, NUL-padded ASCII of this many bytes (h5py dtype
    /// `S<n>`, read back as bytes like variable-length strings) instead of variable-length UTF-8.
    /// For one-character codes, whose variable-length heap entries would cost far more than the data.
    public var fixedWidth: Int?

    public init(_ name: String, _ type: ElementType, _ layout: Layout, compressed: Bool = false, fixedWidth: Int? = nil) {
        self.name = name
        self.type = type
        self.layout = layout
        self.compressed = compressed
        self.fixedWidth = type == .string ? fixedWidth : nil
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
