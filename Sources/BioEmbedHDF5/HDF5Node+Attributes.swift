import BioEmbedCore
import CHDF5
import Foundation

/// Attribute reading and writing for groups and datasets.
///
/// Strings are scalar variable-length UTF-8 (h5py returns `str`), integers int64, reals float64;
/// arrays are 1-D. JSON values are stored as strings.
extension HDF5Node {
    private var location: hid_t { (self as! any HDF5Located).locationID }

    /// Writes (or replaces) an attribute.
    public func setAttribute(_ name: String, _ value: MetadataValue) throws(HDF5Error) {
        let object = "\(path) attribute '\(name)'"
        if H5Aexists(location, name) > 0 {
            try H5.check(H5Adelete(location, name), "H5Adelete", file: fileName, object: object)
        }
        let type: H5Handle
        let space: H5Handle
        var dims: [hsize_t] = []
        switch value {
        case .string: type = try variableStringType(file: fileName, object: object)
        case .int, .ints: type = H5Handle(H5Tcopy(Int64.fileType), .datatype)
        case .double, .doubles: type = H5Handle(H5Tcopy(Double.fileType), .datatype)
        }
        switch value {
        case let .ints(values): dims = [hsize_t(values.count)]
        case let .doubles(values): dims = [hsize_t(values.count)]
        default: break
        }
        space = H5Handle(
            try H5.check(dims.isEmpty ? H5Screate(H5S_SCALAR) : H5Screate_simple(1, &dims, nil), "H5Screate", file: fileName, object: object),
            .dataspace)
        let attribute = H5Handle(
            try H5.check(H5Acreate2(location, name, type.id, space.id, H5.defaultList, H5.defaultList), "H5Acreate2", file: fileName, object: object),
            .attribute)
        let status: herr_t
        switch value {
        case let .string(text):
            status = text.withCString { pointer in
                var p: UnsafePointer<CChar>? = pointer
                return H5Awrite(attribute.id, type.id, &p)
            }
        case var .int(number): status = H5Awrite(attribute.id, Int64.memoryType, &number)
        case var .double(number): status = H5Awrite(attribute.id, Double.memoryType, &number)
        case let .ints(values): status = values.withUnsafeBufferPointer { H5Awrite(attribute.id, Int64.memoryType, $0.baseAddress) }
        case let .doubles(values): status = values.withUnsafeBufferPointer { H5Awrite(attribute.id, Double.memoryType, $0.baseAddress) }
        }
        try H5.check(status, "H5Awrite", file: fileName, object: object)
    }

    public func setAttribute(_ name: String, _ text: String) throws(HDF5Error) { try setAttribute(name, .string(text)) }

    /// Stores `value` as a JSON string attribute (sorted keys, so equal values give equal text).
    public func setJSONAttribute<Value: Encodable>(_ name: String, _ value: Value) throws(HDF5Error) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(value) else {
            throw HDF5Error.typeMismatch(file: fileName, object: "\(path) attribute '\(name)'", expected: "a JSON-encodable value", found: "\(Value.self)")
        }
        try setAttribute(name, .string(String(decoding: data, as: UTF8.self)))
    }

    /// Names of all attributes, in creation/name order.
    /// Attribute names in name order, in one pass (`H5Aiterate2`): asking for them by index sorted
    /// the attributes again for every index, which took 33 s for 4,000 attributes.
    public func attributeNames() throws(HDF5Error) -> [String] {
        guard H5Aget_num_attrs(location) > 0 else { return [] }
        var names: [String] = []
        var position: hsize_t = 0
        let status = withUnsafeMutablePointer(to: &names) { pointer in
            H5Aiterate2(location, H5_INDEX_NAME, H5_ITER_INC, &position, { _, name, _, data in
                guard let name, let data else { return -1 }
                data.assumingMemoryBound(to: [String].self).pointee.append(String(cString: name))
                return 0
            }, pointer)
        }
        try H5.check(status, "H5Aiterate2", file: fileName, object: path)
        return names
    }

    public func hasAttribute(_ name: String) -> Bool { H5Aexists(location, name) > 0 }

    /// Reads an attribute written by BioEmbed or h5py (strings, integers, reals; scalars or 1-D).
    public func attribute(_ name: String) throws(HDF5Error) -> MetadataValue {
        let object = "\(path) attribute '\(name)'"
        guard hasAttribute(name) else { throw HDF5Error.missingObject(file: fileName, object: object) }
        let attribute = H5Handle(try H5.check(H5Aopen(location, name, H5.defaultList), "H5Aopen", file: fileName, object: object), .attribute)
        let type = H5Handle(try H5.check(H5Aget_type(attribute.id), "H5Aget_type", file: fileName, object: object), .datatype)
        let space = H5Handle(try H5.check(H5Aget_space(attribute.id), "H5Aget_space", file: fileName, object: object), .dataspace)
        let count = Int(H5Sget_simple_extent_npoints(space.id))
        let isScalar = H5Sget_simple_extent_ndims(space.id) == 0
        let description = describeType(type.id)
        switch description.element {
        case .string:
            if H5Tis_variable_str(type.id) > 0 {
                let memoryType = try variableStringType(file: fileName, object: object)
                var pointers = [UnsafeMutablePointer<CChar>?](repeating: nil, count: max(count, 1))
                try H5.check(H5Aread(attribute.id, memoryType.id, &pointers), "H5Aread", file: fileName, object: object)
                let text = pointers.first.flatMap { $0 }.map { String(cString: $0) } ?? ""
                bio_h5_vlen_reclaim(memoryType.id, space.id, &pointers)
                return .string(text)
            }
            let size = H5Tget_size(type.id)
            var bytes = [UInt8](repeating: 0, count: size * max(count, 1))
            try H5.check(H5Aread(attribute.id, type.id, &bytes), "H5Aread", file: fileName, object: object)
            let end = bytes.prefix(size).firstIndex(of: 0) ?? size
            return .string(String(decoding: bytes[0..<end], as: UTF8.self))
        case .float32, .float64:
            var values = [Double](repeating: 0, count: count)
            try H5.check(H5Aread(attribute.id, Double.memoryType, &values), "H5Aread", file: fileName, object: object)
            return isScalar ? .double(values[0]) : .doubles(values)
        case .int32, .int64, .uint8:
            var values = [Int64](repeating: 0, count: count)
            try H5.check(H5Aread(attribute.id, Int64.memoryType, &values), "H5Aread", file: fileName, object: object)
            return isScalar ? .int(values[0]) : .ints(values)
        case nil:
            if H5Tget_class(type.id) == H5T_INTEGER {  // other integer widths (int8, uint64, bool)
                var values = [Int64](repeating: 0, count: count)
                try H5.check(H5Aread(attribute.id, Int64.memoryType, &values), "H5Aread", file: fileName, object: object)
                return isScalar ? .int(values[0]) : .ints(values)
            }
            throw HDF5Error.typeMismatch(file: fileName, object: object, expected: "a string or numeric attribute", found: description.name)
        }
    }

    /// Reads a string attribute.
    public func stringAttribute(_ name: String) throws(HDF5Error) -> String {
        guard case let .string(text) = try attribute(name) else {
            throw HDF5Error.typeMismatch(file: fileName, object: "\(path) attribute '\(name)'", expected: "a string", found: "a number")
        }
        return text
    }
}
