import BioEmbedCore
import BioEmbedHDF5
import Foundation

/// A GIFTI file (`.gii`, also gzip-compressed `.gii.gz`): per-vertex data of one hemisphere, as
/// nibabel reads it.
///
/// - Data arrays in `ASCII`, `Base64Binary` or `GZipBase64Binary` encoding (a zlib stream),
///   either byte order, `RowMajorOrder` or `ColumnMajorOrder`, of the NIfTI types GIFTI allows
///   (uint8, int32, float32) and the other integer and float types; `ExternalFileBinary` (data in
///   another file) is refused.
/// - A functional file (`.func.gii`) is either one 1-D array per time point (fMRIPrep, Workbench:
///   nilearn stacks them) or one 2-D array `[vertices, time points]`; a label file (`.label.gii`)
///   holds one integer array.
///
/// The document is parsed on `init` (the file must fit the memory budget of one input); arrays are
/// decoded one at a time on request, each checked against the size its dimensions claim.
public struct GIFTIFile: Sendable {
    public let path: String
    /// The file's `MetaData` (`AnatomicalStructurePrimary`, …).
    public let metadata: [String: String]
    public let arrays: [DataArray]

    /// One `DataArray` element, not yet decoded.
    public struct DataArray: Sendable {
        public var intent: String
        public var dimensions: [Int]
        public var columnMajor: Bool
        fileprivate var type: NIfTIDataType
        fileprivate var encoding: String
        fileprivate var bigEndian: Bool
        fileprivate var text: [UInt8]

        public var count: Int { dimensions.reduce(1, *) }
    }

    /// The GIFTI data types (NIfTI codes) this reader accepts, by name.
    static let types: [String: NIfTIDataType] = [
        "NIFTI_TYPE_UINT8": .uint8, "NIFTI_TYPE_INT8": .int8, "NIFTI_TYPE_INT16": .int16, "NIFTI_TYPE_UINT16": .uint16,
        "NIFTI_TYPE_INT32": .int32, "NIFTI_TYPE_UINT32": .uint32, "NIFTI_TYPE_INT64": .int64, "NIFTI_TYPE_UINT64": .uint64,
        "NIFTI_TYPE_FLOAT32": .float32, "NIFTI_TYPE_FLOAT64": .float64,
    ]

    /// Reads and parses `path`.
    ///
    /// - Throws: `NeuroError.invalidInput` naming the file for unreadable or malformed XML, a
    ///   document that is not GIFTI, or a data array whose attributes are missing or out of range.
    public init(_ path: String) throws(NeuroError) {
        self.path = path
        let bytes: [UInt8]
        do {
            let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
            guard FileManager.default.fileExists(atPath: path) else { throw NeuroError.invalidInput(file: path, expected: "a GIFTI file", found: "no such file") }
            guard size <= MemoryBudget.perInput else {
                throw NeuroError.invalidInput(file: path, expected: "a GIFTI file of at most \(MemoryBudget.describe(MemoryBudget.perInput)) (the memory budget of one input)", found: "\(size) bytes")
            }
            bytes = try CompressedFileReader.readAll(path)
        } catch let error as NeuroError { throw error } catch {
            throw .invalidInput(file: path, expected: "a readable GIFTI file", found: "\(error)")
        }
        guard bytes.count <= MemoryBudget.perInput else {
            throw .invalidInput(file: path, expected: "a GIFTI document of at most \(MemoryBudget.describe(MemoryBudget.perInput))", found: "\(bytes.count) bytes once inflated")
        }
        let root: MarkupElement
        do { root = try bytes.withUnsafeBytes { raw throws(MarkupElement.Failure) in try MarkupElement.parse(raw) } } catch {
            throw .invalidInput(file: path, expected: "a well-formed GIFTI (XML) document", found: "\(error)")
        }
        guard root.name == "GIFTI" else {
            throw .invalidInput(file: path, expected: "a <GIFTI> root element", found: "<\(root.name)>")
        }
        metadata = Self.metadata(root.child("MetaData"))
        var arrays: [DataArray] = []
        for (index, element) in root.children("DataArray").enumerated() {
            arrays.append(try Self.dataArray(element, index: index, file: path))
        }
        guard !arrays.isEmpty else { throw .invalidInput(file: path, expected: "at least one DataArray", found: "none") }
        self.arrays = arrays
    }

    static func metadata(_ element: MarkupElement?) -> [String: String] {
        var out: [String: String] = [:]
        for md in element?.children("MD") ?? [] {
            if let name = md.child("Name")?.string { out[name] = md.child("Value")?.string ?? "" }
        }
        return out
    }

    static func dataArray(_ e: MarkupElement, index: Int, file: String) throws(NeuroError) -> DataArray {
        func attribute(_ name: String) throws(NeuroError) -> String {
            guard let value = e.attributes[name] else {
                throw .invalidInput(file: file, expected: "attribute \(name) on DataArray \(index)", found: "none")
            }
            return value
        }
        let typeName = try attribute("DataType")
        guard let type = types[typeName] else {
            throw .invalidInput(file: file, expected: "a numeric DataType on DataArray \(index) (\(types.keys.sorted().joined(separator: ", ")))", found: "'\(typeName)'")
        }
        guard let rank = Int(try attribute("Dimensionality")), (1...6).contains(rank) else {
            throw .invalidInput(file: file, expected: "Dimensionality 1 to 6 on DataArray \(index)", found: "'\(e.attributes["Dimensionality"] ?? "")'")
        }
        var dims: [Int] = []
        var product = 1
        for d in 0..<rank {
            guard let n = Int(try attribute("Dim\(d)")), n >= 0 else {
                throw .invalidInput(file: file, expected: "a non-negative Dim\(d) on DataArray \(index)", found: "'\(e.attributes["Dim\(d)"] ?? "")'")
            }
            let (p, overflow) = product.multipliedReportingOverflow(by: n)
            guard !overflow, p <= MemoryBudget.perInput / 8 else {
                throw .invalidInput(file: file, expected: "a DataArray of at most \(MemoryBudget.describe(MemoryBudget.perInput)) as float64", found: "DataArray \(index) of dimensions \(dims + [n])…")
            }
            product = p
            dims.append(n)
        }
        let encoding = e.attributes["Encoding"] ?? "ASCII"
        guard ["ASCII", "Base64Binary", "GZipBase64Binary"].contains(encoding) else {
            let found = encoding == "ExternalFileBinary" ? "ExternalFileBinary (data in \(e.attributes["ExternalFileName"] ?? "another file"); not read, convert the file to GZipBase64Binary)" : "'\(encoding)'"
            throw .invalidInput(file: file, expected: "ASCII, Base64Binary or GZipBase64Binary data in DataArray \(index)", found: found)
        }
        let order = e.attributes["ArrayIndexingOrder"] ?? "RowMajorOrder"
        guard order == "RowMajorOrder" || order == "ColumnMajorOrder" else {
            throw .invalidInput(file: file, expected: "ArrayIndexingOrder RowMajorOrder or ColumnMajorOrder in DataArray \(index)", found: "'\(order)'")
        }
        let endian = e.attributes["Endian"] ?? "LittleEndian"
        guard endian == "LittleEndian" || endian == "BigEndian" else {
            throw .invalidInput(file: file, expected: "Endian LittleEndian or BigEndian in DataArray \(index)", found: "'\(endian)'")
        }
        return DataArray(
            intent: e.attributes["Intent"] ?? "NIFTI_INTENT_NONE", dimensions: dims, columnMajor: order == "ColumnMajorOrder",
            type: type, encoding: encoding, bigEndian: endian == "BigEndian", text: e.child("Data")?.text ?? [])
    }

    /// The values of array `index` in row-major order (a column-major array is transposed).
    ///
    /// - Throws: `NeuroError.invalidInput` when the data do not decode to the claimed count.
    public func values(_ index: Int) throws(NeuroError) -> [Double] {
        let a = arrays[index]
        let count = a.count
        var out = [Double](repeating: 0, count: count)
        if a.encoding == "ASCII" {
            var n = 0
            var failure: String?
            a.text.withUnsafeBufferPointer { text in
                var i = 0
                while i < text.count {
                    while i < text.count, MarkupElement.isSpace(text[i]) { i += 1 }
                    guard i < text.count else { break }
                    let start = i
                    while i < text.count, !MarkupElement.isSpace(text[i]) { i += 1 }
                    guard n < count else { failure = "more than \(count) values"; return }
                    guard let v = Double(String(decoding: UnsafeBufferPointer(rebasing: text[start..<i]), as: UTF8.self)) else {
                        failure = "'\(String(decoding: UnsafeBufferPointer(rebasing: text[start..<min(i, start + 24)]), as: UTF8.self))' (not a number)"
                        return
                    }
                    out[n] = v
                    n += 1
                }
            }
            if let failure { throw .invalidInput(file: path, expected: "\(count) ASCII numbers in DataArray \(index)", found: failure) }
            guard n == count else { throw .invalidInput(file: path, expected: "\(count) ASCII numbers in DataArray \(index)", found: "\(n)") }
        } else {
            let bytes = count * a.type.size
            guard var binary = Base64.decode(a.text) else {
                throw .invalidInput(file: path, expected: "base64 text in DataArray \(index)", found: "characters outside the base64 alphabet")
            }
            if a.encoding == "GZipBase64Binary" {
                do {
                    binary = try binary.withUnsafeBytes { raw throws(ZlibInflate.Failure) in
                        try ZlibInflate.inflate(raw, expectedBytes: bytes, maximumBytes: bytes)
                    }
                } catch {
                    throw .invalidInput(file: path, expected: "\(bytes) bytes of zlib-compressed data in DataArray \(index)", found: "\(error)")
                }
            }
            guard binary.count == bytes else {
                throw .invalidInput(file: path, expected: "\(bytes) bytes of data in DataArray \(index) (dimensions \(a.dimensions), \(a.type))", found: "\(binary.count) bytes")
            }
            binary.withUnsafeBytes { raw in
                out.withUnsafeMutableBufferPointer { o in
                    NIfTIConversion.convert(raw, type: a.type, swap: a.bigEndian == NIfTIConversion.hostLittle, slope: 1, inter: 0, into: o)
                }
            }
        }
        if a.columnMajor && a.dimensions.count == 2 {
            let (r, c) = (a.dimensions[0], a.dimensions[1])
            var t = out
            for i in 0..<r { for j in 0..<c { t[i * c + j] = out[j * r + i] } }
            out = t
        } else if a.columnMajor && a.dimensions.count > 2 && a.dimensions.dropFirst().contains(where: { $0 > 1 }) && a.dimensions[0] > 1 {
            throw .invalidInput(file: path, expected: "a 1-D or 2-D DataArray \(index)", found: "dimensions \(a.dimensions) in column-major order")
        }
        return out
    }

    /// Vertices × time points of a functional file: the arrays stacked as columns (one array per
    /// time point), or the one 2-D array `[vertices, time]`.
    public var timeSeriesShape: (vertices: Int, timePoints: Int) {
        if arrays.count == 1, arrays[0].dimensions.count >= 2 { return (arrays[0].dimensions[0], arrays[0].count / max(1, arrays[0].dimensions[0])) }
        return (arrays[0].count, arrays.count)
    }
}

/// Standard base64 (RFC 4648), white space ignored, padding optional.
enum Base64 {
    private static let table: [UInt8] = {
        var t = [UInt8](repeating: 0xFF, count: 256)
        for (i, c) in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8.enumerated() { t[Int(c)] = UInt8(i) }
        return t
    }()

    /// nil when a character other than the alphabet, white space and trailing `=` appears.
    static func decode(_ text: [UInt8]) -> [UInt8]? {
        var out = [UInt8](repeating: 0, count: text.count / 4 * 3 + 3)
        var produced = 0
        let valid = table.withUnsafeBufferPointer { table in
            text.withUnsafeBufferPointer { src in
                out.withUnsafeMutableBufferPointer { dst -> Bool in
                    var accumulator: UInt32 = 0
                    var quad = 0
                    var padding = false
                    var i = 0
                    let n = src.count
                    while i < n {
                        // fast path: four alphabet characters at a time (between line breaks)
                        while quad == 0, i + 4 <= n {
                            let a = table[Int(src[i])], b = table[Int(src[i + 1])], c = table[Int(src[i + 2])], d = table[Int(src[i + 3])]
                            guard (a | b | c | d) < 64, !padding else { break }
                            let v = UInt32(a) << 18 | UInt32(b) << 12 | UInt32(c) << 6 | UInt32(d)
                            dst[produced] = UInt8(truncatingIfNeeded: v >> 16)
                            dst[produced + 1] = UInt8(truncatingIfNeeded: v >> 8)
                            dst[produced + 2] = UInt8(truncatingIfNeeded: v)
                            produced += 3
                            i += 4
                        }
                        guard i < n else { break }
                        let c = src[i]
                        i += 1
                        let v = table[Int(c)]
                        if v < 64 {
                            guard !padding else { return false }
                            accumulator = accumulator << 6 | UInt32(v)
                            quad += 1
                            if quad == 4 {
                                dst[produced] = UInt8(truncatingIfNeeded: accumulator >> 16)
                                dst[produced + 1] = UInt8(truncatingIfNeeded: accumulator >> 8)
                                dst[produced + 2] = UInt8(truncatingIfNeeded: accumulator)
                                produced += 3
                                quad = 0
                                accumulator = 0
                            }
                        } else if c == UInt8(ascii: "=") {
                            padding = true
                        } else if !MarkupElement.isSpace(c) {
                            return false
                        }
                    }
                    // 2 or 3 characters left: 1 or 2 bytes
                    if quad == 1 { return false }
                    if quad >= 2 {
                        accumulator <<= UInt32(6 * (4 - quad))
                        dst[produced] = UInt8(truncatingIfNeeded: accumulator >> 16)
                        produced += 1
                        if quad == 3 { dst[produced] = UInt8(truncatingIfNeeded: accumulator >> 8); produced += 1 }
                    }
                    return true
                }
            }
        }
        guard valid else { return nil }
        out.removeLast(out.count - produced)
        return out
    }
}
