/// The output of one stage for one item: its id plus one `FieldData` per declared field.
public struct ItemRecord: Sendable, Equatable {
    public var id: String
    public var values: [String: FieldData]

    public init(id: String, values: [String: FieldData] = [:]) {
        self.id = id
        self.values = values
    }

    public subscript(field: String) -> FieldData? {
        get { values[field] }
        set { values[field] = newValue }
    }
}
