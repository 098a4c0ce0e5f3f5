import Foundation

/// A safetensors file: header parsed and validated at open, tensors read (`pread`) and converted to
/// float32 on demand, so the process holds only the copies its model keeps (no mapped pages of the
/// whole file counted against it).
///
/// Layout (huggingface/safetensors): 8 bytes little-endian header length `n`, `n` bytes of JSON
/// `{name: {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {...}}`, then the
/// data region; offsets are relative to its start. Validation at open: the header fits in the
/// file, parses, every entry has a known dtype, `end - begin == count(shape) * width(dtype)`, and
/// every range lies inside the data region. F32, F16, BF16 and F64 read as float32; integer
/// tensors (e.g. BatchNorm's `num_batches_tracked`) are listed but cannot be read as floats.
/// Opening costs O(header); reading a tensor O(its size).
public final class SafeTensors: @unchecked Sendable {
    // @unchecked: immutable after init; reads are positioned (`pread`), safe from any thread.

    /// One entry of the header.
    public struct Entry: Sendable {
        public let dtype: String
        public let shape: [Int]
        public let range: Range<Int>
    }

    public let path: String
    public let entries: [String: Entry]
    public let metadata: [String: String]
    private let descriptor: Int32
    private let dataStart: Int

    static let widths = ["F64": 8, "F32": 4, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "I16": 2, "I8": 1, "U8": 1, "BOOL": 1]

    public init(path: String) throws(NNError) {
        self.path = path
        guard FileManager.default.fileExists(atPath: path) else {
            throw NNError.invalidWeights(file: path, detail: "the file does not exist")
        }
        descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            throw NNError.invalidWeights(file: path, detail: "cannot read: \(String(cString: strerror(errno)))")
        }
        var info = stat()
        guard fstat(descriptor, &info) == 0 else {
            close(descriptor)
            throw NNError.invalidWeights(file: path, detail: "cannot read: \(String(cString: strerror(errno)))")
        }
        let fileSize = Int(info.st_size)
        guard fileSize >= 8 else {
            close(descriptor)
            throw NNError.invalidWeights(file: path, detail: "file has \(fileSize) bytes, shorter than the 8-byte header length")
        }
        var lengthBytes = [UInt8](repeating: 0, count: 8)
        guard Self.read(descriptor, into: &lengthBytes, at: 0) else {
            close(descriptor)
            throw NNError.invalidWeights(file: path, detail: "cannot read the 8-byte header length")
        }
        var headerLength: UInt64 = 0
        for i in 0..<8 { headerLength |= UInt64(lengthBytes[i]) << (8 * UInt64(i)) }
        guard headerLength <= UInt64(fileSize - 8) else {
            close(descriptor)
            throw NNError.invalidWeights(file: path, detail: "header claims \(headerLength) bytes but the file has only \(fileSize - 8) after the length field (truncated?)")
        }
        dataStart = 8 + Int(headerLength)
        var headerBytes = [UInt8](repeating: 0, count: Int(headerLength))
        let object: Any
        do {
            guard Self.read(descriptor, into: &headerBytes, at: 8) else { throw NNError.invalidWeights(file: path, detail: "cannot read the header") }
            object = try JSONSerialization.jsonObject(with: Data(headerBytes))
        } catch {
            close(descriptor)
            throw NNError.invalidWeights(file: path, detail: "header is not valid JSON")
        }
        guard let header = object as? [String: Any] else {
            close(descriptor)
            throw NNError.invalidWeights(file: path, detail: "header is not a JSON object")
        }
        let dataSize = fileSize - dataStart
        do {
            (entries, metadata) = try Self.entries(header, dataSize: dataSize, path: path)
        } catch {
            close(descriptor)
            throw error
        }
    }

    deinit { close(descriptor) }

    /// Reads `buffer.count` bytes at `offset`; false on an error or a short file.
    private static func read(_ descriptor: Int32, into buffer: UnsafeMutableRawBufferPointer, at offset: Int) -> Bool {
        var done = 0
        while done < buffer.count {
            let n = pread(descriptor, buffer.baseAddress! + done, buffer.count - done, off_t(offset + done))
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { return false }
            done += n
        }
        return true
    }

    private static func read(_ descriptor: Int32, into bytes: inout [UInt8], at offset: Int) -> Bool {
        bytes.withUnsafeMutableBytes { read(descriptor, into: $0, at: offset) }
    }

    /// The header's entries, each checked against the data region's size.
    private static func entries(_ header: [String: Any], dataSize: Int, path: String) throws(NNError) -> ([String: Entry], [String: String]) {
        var entries: [String: Entry] = [:]
        var metadata: [String: String] = [:]
        for (name, value) in header {
            if name == "__metadata__" {
                for (key, text) in (value as? [String: Any]) ?? [:] { metadata[key] = text as? String ?? "\(text)" }
                continue
            }
            guard let fields = value as? [String: Any], let dtype = fields["dtype"] as? String,
                  let shape = (fields["shape"] as? [Any])?.compactMap({ ($0 as? NSNumber)?.intValue }),
                  let offsets = (fields["data_offsets"] as? [Any])?.compactMap({ ($0 as? NSNumber)?.intValue }), offsets.count == 2
            else {
                throw NNError.invalidWeights(file: path, detail: "header entry '\(name)' lacks dtype, shape or data_offsets")
            }
            guard let width = Self.widths[dtype] else {
                throw NNError.invalidWeights(file: path, detail: "tensor '\(name)' has unknown dtype \(dtype)")
            }
            guard shape.allSatisfy({ $0 >= 0 }), offsets[0] >= 0, offsets[0] <= offsets[1] else {
                throw NNError.invalidWeights(file: path, detail: "tensor '\(name)' has shape \(shape) and offsets \(offsets)")
            }
            // the product can overflow for a crafted shape: checked factor by factor
            var expectedBytes = width
            for extent in shape {
                let (product, overflow) = expectedBytes.multipliedReportingOverflow(by: extent)
                guard !overflow, product <= dataSize else {
                    throw NNError.invalidWeights(
                        file: path, detail: "tensor '\(name)' \(dtype)\(shape) needs more bytes than the file's \(dataSize) data bytes")
                }
                expectedBytes = product
            }
            guard offsets[1] - offsets[0] == expectedBytes else {
                throw NNError.invalidWeights(
                    file: path, detail: "tensor '\(name)' \(dtype)\(shape) needs \(expectedBytes) bytes, offsets give \(offsets[1] - offsets[0])")
            }
            guard offsets[1] <= dataSize else {
                throw NNError.invalidWeights(
                    file: path, detail: "tensor '\(name)' ends at byte \(offsets[1]) of the data but the file holds only \(dataSize) data bytes (truncated?)")
            }
            entries[name] = Entry(dtype: dtype, shape: shape, range: offsets[0]..<offsets[1])
        }
        return (entries, metadata)
    }

    /// Tensor names, sorted.
    public var names: [String] { entries.keys.sorted() }

    /// Reads tensor `name` as float32 (F32 copied, F16/BF16/F64 converted).
    public func tensor(_ name: String) throws(NNError) -> Tensor {
        guard let entry = entries[name] else { throw NNError.missingTensor(file: path, name: name, expectedShape: []) }
        let count = entry.shape.reduce(1, *)
        var values = [Float](repeating: 0, count: count)
        let start = dataStart + entry.range.lowerBound
        let dtype = entry.dtype
        var supported = true
        var readable = true
        if dtype == "F32" {
            #if _endian(little)
            readable = values.withUnsafeMutableBytes { Self.read(descriptor, into: $0, at: start) }
            #else
            supported = false
            #endif
        } else if ["F64", "F16", "BF16"].contains(dtype) {
            var raw = [UInt8](repeating: 0, count: entry.range.count)
            readable = Self.read(descriptor, into: &raw, at: start)
            raw.withUnsafeBytes { (bytes: UnsafeRawBufferPointer) in
                let base = bytes.baseAddress!
                values.withUnsafeMutableBufferPointer { out in
                    switch dtype {
                    case "F64":
                        for i in 0..<count { out[i] = Float(Double(bitPattern: base.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self).littleEndian)) }
                    case "F16":
                        for i in 0..<count { out[i] = Self.halfToFloat(base.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self).littleEndian) }
                    default:
                        for i in 0..<count { out[i] = Float(bitPattern: UInt32(base.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self).littleEndian) << 16) }
                    }
                }
            }
        } else {
            supported = false
        }
        guard readable else { throw NNError.invalidWeights(file: path, detail: "cannot read tensor '\(name)' (file changed or truncated while open?)") }
        guard supported else { throw NNError.unsupportedDType(file: path, name: name, dtype: dtype) }
        return Tensor(shape: entry.shape, data: values)
    }

    /// IEEE binary16 → binary32 (exact; subnormals, infinities and NaN included).
    @inline(__always)
    static func halfToFloat(_ h: UInt16) -> Float {
        let sign = UInt32(h & 0x8000) << 16
        let exponent = Int((h >> 10) & 0x1F)
        let mantissa = UInt32(h & 0x3FF)
        if exponent == 0 {
            if mantissa == 0 { return Float(bitPattern: sign) }
            let value = Float(mantissa) * Float(sign: .plus, exponent: -24, significand: 1)
            return sign != 0 ? -value : value
        }
        if exponent == 31 { return Float(bitPattern: sign | 0x7F80_0000 | (mantissa << 13)) }
        return Float(bitPattern: sign | UInt32(exponent - 15 + 127) << 23 | (mantissa << 13))
    }
}
