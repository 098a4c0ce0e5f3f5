/// A small attribute value (HDF5 attribute, provenance field), independent of the storage layer.
public enum MetadataValue: Sendable, Equatable, Hashable {
    case string(String)
    case int(Int64)
    case double(Double)
    case ints([Int64])
    case doubles([Double])
}
