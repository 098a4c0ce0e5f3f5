/// The real-valued NIfTI datatypes BioEmbed reads (complex and RGB types are rejected).
public enum NIfTIDataType: Int, Sendable, CustomStringConvertible {
    case uint8 = 2, int16 = 4, int32 = 8, float32 = 16, float64 = 64
    case int8 = 256, uint16 = 512, uint32 = 768, int64 = 1024, uint64 = 1280

    /// Bytes per voxel.
    public var size: Int {
        switch self {
        case .uint8, .int8: 1
        case .int16, .uint16: 2
        case .int32, .uint32, .float32: 4
        case .float64, .int64, .uint64: 8
        }
    }

    public var description: String {
        switch self {
        case .uint8: "uint8"
        case .int16: "int16"
        case .int32: "int32"
        case .float32: "float32"
        case .float64: "float64"
        case .int8: "int8"
        case .uint16: "uint16"
        case .uint32: "uint32"
        case .int64: "int64"
        case .uint64: "uint64"
        }
    }
}
