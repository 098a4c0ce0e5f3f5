import Foundation

/// A safetensors file, memory-mapped: header parsed and validated at open, tensors converted to
/// float32 on demand.
///
/// Layout (huggingface/safetensors): 8 bytes little-endian header length `n`, `n` bytes of JSON
/// `{name: {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {...}}`, then the
/// data region; offsets are relative to its start. Validation at open: the header fits in the
/// file, parses, every entry has a known dtype, `end - begin == count(shape) * width(dtype)`, and
/// every range lies inside the data region. F32, F16, BF16 and F64 read as float32; integer
/// tensors (e.g. BatchNorm's `num_batches_tracked`) are listed but cannot be read as floats.
/// Opening costs O(header); reading a tensor O(its size).
public final class SafeTensors: @unchecked Sendable {
    // @unchecked: immutable after init; `Data` of a mapped file is only read.

    /// One entry of the header.
    public struct Entry: Sendable {
        public let dtype: String
        public let shape: [Int]
        public let range: Range<Int>
    }

    public let path: String
    public let entries: [String: Entry]
    public let metadata: [String: String]
    private let bytes: Data
    private let dataStart: Int

    static let widths = ["F64": 8, "F32": 4, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "I16": 2, "I8": 1, "U8": 1, "BOOL": 1]

    public init(path: String) throws(NNError) {
        self.path = path
        guard FileManager.default.fileExists(atPath: path) else {
            throw NNError.invalidWeights(file: path, detail: "the file does not exist")
        }
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped) } catch {
            throw NNError.invalidWeights(file: path, detail: "cannot read: \(error.localizedDescription)")
        }
        bytes = data
        guard data.count >= 8 else {
            throw NNError.invalidWeights(file: path, detail: "file has \(data.count) bytes, shorter than the 8-byte header length")
        }
        var headerLength: UInt64 = 0
        for i in 0..<8 { headerLength |= UInt64(data[data.startIndex + i]) << (8 * UInt64(i)) }
        guard headerLength <= UInt64(data.count - 8) else {
            throw NNError.invalidWeights(file: path, detail: "header claims \(headerLength) bytes but the file has only \(data.count - 8) after the length field (truncated?)")
        }
        dataStart = 8 + Int(headerLength)
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: data.subdata(in: (data.startIndex + 8)..<(data.startIndex + dataStart)))
        } catch {
            throw NNError.invalidWeights(file: path, detail: "header is not valid JSON")
        }
        guard let header = object as? [String: Any] else {
            throw NNError.invalidWeights(file: path, detail: "header is not a JSON object")
        }
        let dataSize = data.count - dataStart
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
        self.entries = entries
        self.metadata = metadata
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
        bytes.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
            let base = raw.baseAddress!.advanced(by: start)
            values.withUnsafeMutableBufferPointer { out in
                switch dtype {
                case "F32":
                    #if _endian(little)
                    UnsafeMutableRawBufferPointer(out).copyMemory(from: UnsafeRawBufferPointer(start: base, count: 4 * count))
                    #else
                    for i in 0..<count { out[i] = Float(bitPattern: base.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self).littleEndian) }
                    #endif
                case "F64":
                    for i in 0..<count { out[i] = Float(Double(bitPattern: base.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self).littleEndian)) }
                case "F16":
                    for i in 0..<count { out[i] = Self.halfToFloat(base.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self).littleEndian) }
                case "BF16":
                    for i in 0..<count { out[i] = Float(bitPattern: UInt32(base.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self).littleEndian) << 16) }
                default:
                    supported = false
                }
            }
        }
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
