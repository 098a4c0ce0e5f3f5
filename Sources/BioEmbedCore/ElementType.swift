/// The element types a collection field or an HDF5 dataset can hold.
public enum ElementType: String, Codable, Sendable, CaseIterable {
    case float32, float64, int32, int64, uint8, string

    /// Bytes per element (variable-length strings: the size of one pointer in memory).
    public var byteWidth: Int {
        switch self {
        case .float32, .int32: 4
        case .float64, .int64, .string: 8
        case .uint8: 1
        }
    }
}
