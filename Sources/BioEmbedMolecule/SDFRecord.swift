/// One record of an SDF file: its MOL block (header through `M  END`) and its data fields.
public struct SDFRecord: Sendable, Equatable {
    /// 0-based position in the file (RDKit's `SDMolSupplier` index).
    public var index: Int
    /// 1-based line of the record's first line in the (decompressed) file.
    public var line: Int
    /// The molecule's title (first line of the MOL block).
    public var title: String
    /// Header, counts line, atom/bond blocks and properties, through `M  END`.
    public var molBlock: String
    /// `> <name>` data items after `M  END`, in file order (multi-line values joined with `\n`).
    public var dataFields: [(name: String, value: String)]
    /// The line of an `M  END` after this record's own, before the next `$$$$`: a following record
    /// whose `$$$$` line is missing. RDKit's SDMolSupplier skips such a block, and so does this
    /// reader (keeping RDKit's record numbering), but it is reported, not dropped silently.
    public var strayBlockLine: Int? = nil

    public static func == (lhs: SDFRecord, rhs: SDFRecord) -> Bool {
        lhs.index == rhs.index && lhs.line == rhs.line && lhs.title == rhs.title && lhs.molBlock == rhs.molBlock
            && lhs.dataFields.map(\.name) == rhs.dataFields.map(\.name) && lhs.dataFields.map(\.value) == rhs.dataFields.map(\.value)
    }
}
