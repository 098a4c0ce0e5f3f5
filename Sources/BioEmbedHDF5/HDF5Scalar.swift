import BioEmbedCore
import CHDF5

/// A numeric element type that maps onto an HDF5 native (memory) and little-endian (file) type.
public protocol HDF5Scalar: Sendable {
    static var elementType: ElementType { get }
    static var memoryType: hid_t { get }
    static var fileType: hid_t { get }
}

extension Float: HDF5Scalar {
    public static var elementType: ElementType { .float32 }
    public static var memoryType: hid_t { bio_H5T_NATIVE_FLOAT() }
    public static var fileType: hid_t { bio_H5T_IEEE_F32LE() }
}
extension Double: HDF5Scalar {
    public static var elementType: ElementType { .float64 }
    public static var memoryType: hid_t { bio_H5T_NATIVE_DOUBLE() }
    public static var fileType: hid_t { bio_H5T_IEEE_F64LE() }
}
extension Int32: HDF5Scalar {
    public static var elementType: ElementType { .int32 }
    public static var memoryType: hid_t { bio_H5T_NATIVE_INT32() }
    public static var fileType: hid_t { bio_H5T_STD_I32LE() }
}
extension Int64: HDF5Scalar {
    public static var elementType: ElementType { .int64 }
    public static var memoryType: hid_t { bio_H5T_NATIVE_INT64() }
    public static var fileType: hid_t { bio_H5T_STD_I64LE() }
}
extension UInt8: HDF5Scalar {
    public static var elementType: ElementType { .uint8 }
    public static var memoryType: hid_t { bio_H5T_NATIVE_UINT8() }
    public static var fileType: hid_t { bio_H5T_STD_U8LE() }
}

extension ElementType {
    /// The file type used when writing this element type (strings: variable-length UTF-8).
    func fileTypeHandle(file: String, object: String) throws(HDF5Error) -> H5Handle {
        switch self {
        case .float32: return H5Handle(H5Tcopy(Float.fileType), .datatype)
        case .float64: return H5Handle(H5Tcopy(Double.fileType), .datatype)
        case .int32: return H5Handle(H5Tcopy(Int32.fileType), .datatype)
        case .int64: return H5Handle(H5Tcopy(Int64.fileType), .datatype)
        case .uint8: return H5Handle(H5Tcopy(UInt8.fileType), .datatype)
        case .string: return try variableStringType(file: file, object: object)
        }
    }
}

/// A variable-length UTF-8 string type (h5py reads it as `str`).
func variableStringType(file: String, object: String) throws(HDF5Error) -> H5Handle {
    let type = H5Handle(try H5.check(H5Tcopy(bio_H5T_C_S1()), "H5Tcopy", file: file, object: object), .datatype)
    try H5.check(H5Tset_size(type.id, bio_H5T_VARIABLE()), "H5Tset_size", file: file, object: object)
    try H5.check(H5Tset_cset(type.id, H5T_CSET_UTF8), "H5Tset_cset", file: file, object: object)
    return type
}

/// A fixed-length, NUL-padded ASCII string type of `width` bytes (h5py reads it as `S<width>`).
func fixedStringType(width: Int, file: String, object: String) throws(HDF5Error) -> H5Handle {
    guard width > 0 else {
        throw HDF5Error.shapeMismatch(file: file, object: object, expected: "a fixed string width ≥ 1", found: "\(width)")
    }
    let type = H5Handle(try H5.check(H5Tcopy(bio_H5T_C_S1()), "H5Tcopy", file: file, object: object), .datatype)
    try H5.check(H5Tset_size(type.id, width), "H5Tset_size", file: file, object: object)
    try H5.check(H5Tset_strpad(type.id, H5T_STR_NULLPAD), "H5Tset_strpad", file: file, object: object)
    try H5.check(H5Tset_cset(type.id, H5T_CSET_ASCII), "H5Tset_cset", file: file, object: object)
    return type
}

/// Describes a stored datatype: the `ElementType` it reads as (nil when unsupported) and a name.
func describeType(_ type: hid_t) -> (element: ElementType?, name: String) {
    let size = H5Tget_size(type)
    switch H5Tget_class(type) {
    case H5T_FLOAT:
        return size == 4 ? (.float32, "float32") : size == 8 ? (.float64, "float64") : (nil, "float\(size * 8)")
    case H5T_INTEGER:
        let signed = H5Tget_sign(type) == H5T_SGN_2
        let name = (signed ? "int" : "uint") + "\(size * 8)"
        switch (signed, size) {
        case (true, 4): return (.int32, name)
        case (true, 8): return (.int64, name)
        case (false, 1): return (.uint8, name)
        default: return (nil, name)
        }
    case H5T_STRING:
        let variable = H5Tis_variable_str(type) > 0
        let utf8 = H5Tget_cset(type) == H5T_CSET_UTF8
        return (.string, (variable ? "vlen " : "fixed[\(size)] ") + (utf8 ? "utf-8 string" : "ascii string"))
    case H5T_COMPOUND: return (nil, "compound")
    case H5T_ENUM: return (nil, "enum")
    case H5T_ARRAY: return (nil, "array")
    case H5T_VLEN: return (nil, "vlen sequence")
    case H5T_OPAQUE: return (nil, "opaque")
    case H5T_REFERENCE: return (nil, "reference")
    default: return (nil, "unknown")
    }
}
