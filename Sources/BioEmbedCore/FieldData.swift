/// The values of one field for one item, flattened row-major.
public enum FieldData: Sendable, Equatable {
    case float32([Float])
    case float64([Double])
    case int32([Int32])
    case int64([Int64])
    case uint8([UInt8])
    case strings([String])

    public var type: ElementType {
        switch self {
        case .float32: .float32
        case .float64: .float64
        case .int32: .int32
        case .int64: .int64
        case .uint8: .uint8
        case .strings: .string
        }
    }

    public var count: Int {
        switch self {
        case let .float32(v): v.count
        case let .float64(v): v.count
        case let .int32(v): v.count
        case let .int64(v): v.count
        case let .uint8(v): v.count
        case let .strings(v): v.count
        }
    }
}
