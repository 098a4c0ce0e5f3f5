import BioEmbedCore
import CHDF5
import Foundation

/// A dataset: whole writes, appends along an unlimited first dimension, whole and hyperslab reads.
public final class HDF5Dataset: HDF5Located {
    public let file: HDF5File
    public let path: String
    let handle: H5Handle

    init(file: HDF5File, handle: H5Handle, path: String) {
        self.file = file
        self.handle = handle
        self.path = path
    }

    var locationID: hid_t { handle.id }

    // MARK: Description

    /// Current dimensions (`[]` for a scalar).
    public var shape: [Int] { dimensions().current }

    /// Maximum dimensions; `nil` entries are unlimited.
    public var maxShape: [Int?] { dimensions().max }

    private func dimensions() -> (current: [Int], max: [Int?]) {
        let space = H5Dget_space(handle.id)
        guard space >= 0 else { return ([], []) }
        defer { H5Sclose(space) }
        let rank = Int(H5Sget_simple_extent_ndims(space))
        guard rank > 0 else { return ([], []) }
        var dims = [hsize_t](repeating: 0, count: rank)
        var maxDims = [hsize_t](repeating: 0, count: rank)
        H5Sget_simple_extent_dims(space, &dims, &maxDims)
        return (dims.map { Int($0) }, maxDims.map { $0 == bio_H5S_UNLIMITED() ? nil : Int($0) })
    }

    /// The element type this dataset reads as, or nil for types BioEmbed does not use.
    public var elementType: ElementType? { typeDescription.element }

    /// A short type name: `float32`, `int64`, `vlen utf-8 string`, ...
    public var typeName: String { typeDescription.name }

    private var typeDescription: (element: ElementType?, name: String) {
        let type = H5Dget_type(handle.id)
        guard type >= 0 else { return (nil, "unknown") }
        defer { H5Tclose(type) }
        return describeType(type)
    }

    /// Chunk shape, or nil when contiguous/compact.
    public var chunks: [Int]? {
        let dcpl = H5Dget_create_plist(handle.id)
        guard dcpl >= 0 else { return nil }
        defer { H5Pclose(dcpl) }
        guard H5Pget_layout(dcpl) == H5D_CHUNKED else { return nil }
        var dims = [hsize_t](repeating: 0, count: 32)
        let rank = H5Pget_chunk(dcpl, 32, &dims)
        return rank > 0 ? dims.prefix(Int(rank)).map { Int($0) } : nil
    }

    /// Filter names in pipeline order, e.g. `["shuffle", "gzip(4)"]`.
    public var filters: [String] {
        let dcpl = H5Dget_create_plist(handle.id)
        guard dcpl >= 0 else { return [] }
        defer { H5Pclose(dcpl) }
        let count = H5Pget_nfilters(dcpl)
        guard count > 0 else { return [] }
        var names: [String] = []
        for index in 0..<UInt32(count) {
            var flags: UInt32 = 0
            var values = [UInt32](repeating: 0, count: 8)
            var valueCount = 8
            var nameBuffer = [CChar](repeating: 0, count: 64)
            let filter = H5Pget_filter2(dcpl, index, &flags, &valueCount, &values, 64, &nameBuffer, nil)
            if filter == bio_H5Z_FILTER_DEFLATE() {
                names.append("gzip(\(valueCount > 0 ? values[0] : 0))")
            } else if filter == bio_H5Z_FILTER_SHUFFLE() {
                names.append("shuffle")
            } else {
                let name = string(fromCBuffer: nameBuffer)
                names.append(name.isEmpty ? "filter \(filter)" : name)
            }
        }
        return names
    }

    /// Number of elements in one row (product of the dimensions after the first).
    var rowWidth: Int { max(1, shape.dropFirst().reduce(1, *)) }

    // MARK: Numeric I/O

    private func requireNumeric<Scalar: HDF5Scalar>(_: Scalar.Type) throws(HDF5Error) {
        let description = typeDescription
        // Any integer or float width converts on read (HDF5 does it), e.g. int16 or uint64 stored by h5py.
        let numericName = ["int", "uint", "float"].contains { description.name.hasPrefix($0) }
        if description.element == .string || (description.element == nil && !numericName) {
            throw HDF5Error.typeMismatch(file: file.path, object: path, expected: "\(Scalar.elementType.rawValue)", found: description.name)
        }
    }

    /// Writes the whole dataset; `values.count` must equal the number of elements.
    public func write<Scalar: HDF5Scalar>(_ values: [Scalar]) throws(HDF5Error) {
        let expected = shape.reduce(1, *)
        guard values.count == expected else {
            throw HDF5Error.shapeMismatch(file: file.path, object: path, expected: "\(shape) (\(expected) values)", found: "\(values.count) values")
        }
        if expected == 0 { return }
        let status = values.withUnsafeBufferPointer {
            H5Dwrite(handle.id, Scalar.memoryType, bio_H5S_ALL(), bio_H5S_ALL(), H5.defaultList, $0.baseAddress)
        }
        try H5.check(status, "H5Dwrite", file: file.path, object: path)
    }

    /// Writes rows `range` of the first dimension (a hyperslab of a dataset created with its full
    /// shape): results streamed into place, item by item, without holding the whole array.
    public func writeRows<Scalar: HDF5Scalar>(_ range: Range<Int>, _ values: UnsafeBufferPointer<Scalar>) throws(HDF5Error) {
        let (fileSpace, memorySpace, count) = try selection(range)
        guard values.count == count else {
            throw HDF5Error.shapeMismatch(file: file.path, object: path, expected: "\(count) values for rows \(range)", found: "\(values.count) values")
        }
        if count == 0 { return }
        try H5.check(
            H5Dwrite(handle.id, Scalar.memoryType, memorySpace.id, fileSpace.id, H5.defaultList, values.baseAddress), "H5Dwrite",
            file: file.path, object: path)
    }

    public func writeRows<Scalar: HDF5Scalar>(_ range: Range<Int>, _ values: [Scalar]) throws(HDF5Error) {
        try values.withUnsafeBufferPointer { (buffer) throws(HDF5Error) in try writeRows(range, buffer) }
    }

    /// Appends whole rows along the first (unlimited) dimension.
    ///
    /// - Precondition: `values.count` is a multiple of the row width.
    public func append<Scalar: HDF5Scalar>(_ values: UnsafeBufferPointer<Scalar>) throws(HDF5Error) {
        try appendRaw(values.count, memoryType: Scalar.memoryType, UnsafeRawPointer(values.baseAddress))
    }

    public func append<Scalar: HDF5Scalar>(_ values: [Scalar]) throws(HDF5Error) {
        try values.withUnsafeBufferPointer { (buffer) throws(HDF5Error) in try append(buffer) }
    }

    func appendRaw(_ count: Int, memoryType: hid_t, _ pointer: UnsafeRawPointer?, transfer: hid_t = H5.defaultList) throws(HDF5Error) {
        let current = shape
        guard !current.isEmpty else {
            throw HDF5Error.shapeMismatch(file: file.path, object: path, expected: "an appendable dataset", found: "a scalar")
        }
        let width = rowWidth
        guard count % width == 0 else {
            throw HDF5Error.shapeMismatch(
                file: file.path, object: path, expected: "a multiple of \(width) values (whole rows of \(Array(current.dropFirst())))",
                found: "\(count) values")
        }
        let newRows = count / width
        if newRows == 0 { return }
        var newDims = current.map { hsize_t($0) }
        newDims[0] += hsize_t(newRows)
        try H5.check(H5Dset_extent(handle.id, &newDims), "H5Dset_extent", file: file.path, object: path)
        let (fileSpace, memorySpace, _) = try selection(current[0]..<(current[0] + newRows))
        try H5.check(
            H5Dwrite(handle.id, memoryType, memorySpace.id, fileSpace.id, transfer, pointer), "H5Dwrite",
            file: file.path, object: path)
    }

    /// Reads every element (converted to `Scalar` by HDF5 when the stored type differs).
    public func read<Scalar: HDF5Scalar>(as _: Scalar.Type = Scalar.self) throws(HDF5Error) -> [Scalar] {
        try requireNumeric(Scalar.self)
        let count = try budgeted(shape, elementSize: MemoryLayout<Scalar>.stride)
        if count == 0 { return [] }
        var status: herr_t = 0
        let values = [Scalar](unsafeUninitializedCapacity: count) { buffer, initialized in
            status = H5Dread(handle.id, Scalar.memoryType, bio_H5S_ALL(), bio_H5S_ALL(), H5.defaultList, buffer.baseAddress)
            initialized = count
        }
        try H5.check(status, "H5Dread", file: file.path, object: path)
        return values
    }

    /// Reads rows `range` of the first dimension (a hyperslab).
    public func readRows<Scalar: HDF5Scalar>(_ range: Range<Int>, as _: Scalar.Type = Scalar.self) throws(HDF5Error) -> [Scalar] {
        try requireNumeric(Scalar.self)
        let (fileSpace, memorySpace, count) = try selection(range)
        if count == 0 { return [] }
        var status: herr_t = 0
        let values = [Scalar](unsafeUninitializedCapacity: count) { buffer, initialized in
            status = H5Dread(handle.id, Scalar.memoryType, memorySpace.id, fileSpace.id, H5.defaultList, buffer.baseAddress)
            initialized = count
        }
        try H5.check(status, "H5Dread", file: file.path, object: path)
        return values
    }

    private func selection(_ range: Range<Int>) throws(HDF5Error) -> (H5Handle, H5Handle, Int) {
        let current = shape
        guard !current.isEmpty, range.lowerBound >= 0, range.upperBound <= current[0] else {
            throw HDF5Error.shapeMismatch(
                file: file.path, object: path, expected: "rows within 0..<\(current.first ?? 0)", found: "rows \(range)")
        }
        let fileSpace = H5Handle(try H5.check(H5Dget_space(handle.id), "H5Dget_space", file: file.path, object: path), .dataspace)
        var start = [hsize_t](repeating: 0, count: current.count)
        start[0] = hsize_t(range.lowerBound)
        var extent = current.map { hsize_t($0) }
        extent[0] = hsize_t(range.count)
        // 8 bytes per element covers every type read (numbers, string pointers)
        let count = try budgeted(extent.map { Int($0) }, elementSize: 8)
        if count > 0 {
            try H5.check(
                H5Sselect_hyperslab(fileSpace.id, H5S_SELECT_SET, &start, nil, &extent, nil), "H5Sselect_hyperslab",
                file: file.path, object: path)
        }
        let memorySpace = H5Handle(
            try H5.check(H5Screate_simple(Int32(extent.count), &extent, nil), "H5Screate_simple", file: file.path, object: path),
            .dataspace)
        return (fileSpace, memorySpace, count)
    }

    /// True when the whole dataset, at `elementSize` bytes an element, is within the memory budget
    /// of one input (what a whole read needs).
    public func fitsMemoryBudget(elementSize: Int) -> Bool {
        (try? budgeted(shape, elementSize: elementSize)) != nil
    }

    /// The number of elements of `shape`, refused (not allocated) when their bytes exceed the
    /// memory budget of one input or the product overflows: a dataset's shape is a claim of the
    /// file, checked before it sizes an allocation.
    private func budgeted(_ shape: [Int], elementSize: Int) throws(HDF5Error) -> Int {
        var count = 1
        for extent in shape {
            let (product, overflow) = count.multipliedReportingOverflow(by: extent)
            let (bytes, overflowBytes) = product.multipliedReportingOverflow(by: elementSize)
            guard !overflow, !overflowBytes, bytes <= MemoryBudget.perInput else {
                throw HDF5Error.shapeMismatch(
                    file: file.path, object: path, expected: "at most \(MemoryBudget.describe(MemoryBudget.perInput)) to read (the memory budget of one input)",
                    found: "shape \(shape)")
            }
            count = product
        }
        return count
    }

    // MARK: Strings

    /// Writes a whole 1-D variable-length UTF-8 string dataset.
    public func writeStrings(_ values: [String]) throws(HDF5Error) {
        guard shape == [values.count] else {
            throw HDF5Error.shapeMismatch(file: file.path, object: path, expected: "\(shape)", found: "[\(values.count)] strings")
        }
        if values.isEmpty { return }
        let type = try variableStringType(file: file.path, object: path)
        _ = try withCStrings(values) { (pointers) throws(HDF5Error) in
            try H5.check(
                H5Dwrite(handle.id, type.id, bio_H5S_ALL(), bio_H5S_ALL(), H5.defaultList, pointers.baseAddress), "H5Dwrite",
                file: file.path, object: path)
        }
    }

    /// Appends strings to a 1-D appendable string dataset.
    public func appendStrings(_ values: [String]) throws(HDF5Error) {
        if values.isEmpty { return }
        let type = try variableStringType(file: file.path, object: path)
        try withCStrings(values) { (pointers) throws(HDF5Error) in
            try appendRaw(values.count, memoryType: type.id, UnsafeRawPointer(pointers.baseAddress), transfer: H5.stringTransferList)
        }
    }

    /// Appends strings to a 1-D appendable fixed-length string dataset (each at most its width in
    /// bytes, NUL-padded): one contiguous buffer, no per-string heap objects.
    public func appendFixedStrings(_ values: [String]) throws(HDF5Error) {
        if values.isEmpty { return }
        guard let width = fixedStringWidth else {
            throw HDF5Error.typeMismatch(file: file.path, object: path, expected: "a fixed-length string dataset", found: typeDescription.name)
        }
        var bytes = [UInt8](repeating: 0, count: width * values.count)
        for (i, value) in values.enumerated() {
            var k = i * width
            for byte in value.utf8 {
                guard k < (i + 1) * width, byte < 0x80 else {
                    throw HDF5Error.shapeMismatch(file: file.path, object: path, expected: "ASCII strings of at most \(width) byte(s)", found: "'\(value.prefix(20))'")
                }
                bytes[k] = byte
                k += 1
            }
        }
        let type = try fixedStringType(width: width, file: file.path, object: path)
        try bytes.withUnsafeBufferPointer { (buffer) throws(HDF5Error) in
            try appendRaw(values.count, memoryType: type.id, UnsafeRawPointer(buffer.baseAddress))
        }
    }

    /// True for a variable-length string dataset (read through libhdf5's global heap).
    public var isVariableLengthString: Bool {
        guard let stored = try? H5.check(H5Dget_type(handle.id), "H5Dget_type", file: file.path, object: path) else { return false }
        defer { H5Tclose(stored) }
        return H5Tget_class(stored) == H5T_STRING && H5Tis_variable_str(stored) > 0
    }

    /// The width in bytes of a fixed-length string dataset; nil for any other type.
    public var fixedStringWidth: Int? {
        guard let stored = try? H5.check(H5Dget_type(handle.id), "H5Dget_type", file: file.path, object: path) else { return nil }
        defer { H5Tclose(stored) }
        guard H5Tget_class(stored) == H5T_STRING, H5Tis_variable_str(stored) <= 0 else { return nil }
        return H5Tget_size(stored)
    }

    /// Reads a 1-D string dataset (variable or fixed length).
    public func readStrings() throws(HDF5Error) -> [String] {
        let rows = shape.first ?? 1
        return try readStrings(rows: 0..<rows)
    }

    /// Reads rows `range` of a 1-D string dataset.
    public func readStrings(rows range: Range<Int>) throws(HDF5Error) -> [String] {
        let stored = H5Handle(try H5.check(H5Dget_type(handle.id), "H5Dget_type", file: file.path, object: path), .datatype)
        guard H5Tget_class(stored.id) == H5T_STRING else {
            throw HDF5Error.typeMismatch(file: file.path, object: path, expected: "strings", found: describeType(stored.id).name)
        }
        if range.isEmpty { return [] }
        let (fileSpace, memorySpace, count) = try selection(range)
        if H5Tis_variable_str(stored.id) > 0 {
            let memoryType = try variableStringType(file: file.path, object: path)
            var pointers = [UnsafeMutablePointer<CChar>?](repeating: nil, count: count)
            try H5.check(
                H5Dread(handle.id, memoryType.id, memorySpace.id, fileSpace.id, H5.stringTransferList, &pointers), "H5Dread",
                file: file.path, object: path)
            let strings = pointers.map { $0.map { String(cString: $0) } ?? "" }
            bio_h5_vlen_reclaim(memoryType.id, memorySpace.id, &pointers)
            return strings
        }
        let size = H5Tget_size(stored.id)
        let memoryType = H5Handle(H5Tcopy(stored.id), .datatype)
        var bytes = [UInt8](repeating: 0, count: size * count)
        try H5.check(
            H5Dread(handle.id, memoryType.id, memorySpace.id, fileSpace.id, H5.defaultList, &bytes), "H5Dread",
            file: file.path, object: path)
        return (0..<count).map { i in
            let slice = bytes[(i * size)..<((i + 1) * size)]
            let end = slice.firstIndex(of: 0) ?? slice.endIndex
            return String(decoding: slice[slice.startIndex..<end], as: UTF8.self)
        }
    }
}

/// Calls `body` with NUL-terminated copies of `strings` (freed afterwards).
func withCStrings<R>(_ strings: [String], _ body: (UnsafeBufferPointer<UnsafePointer<CChar>?>) throws(HDF5Error) -> R) throws(HDF5Error) -> R {
    let copies: [UnsafeMutablePointer<CChar>?] = strings.map { strdup($0) }
    defer { copies.forEach { free($0) } }
    let pointers = copies.map { UnsafePointer($0) }
    return try pointers.withUnsafeBufferPointer { (buffer) throws(HDF5Error) in try body(buffer) }
}
