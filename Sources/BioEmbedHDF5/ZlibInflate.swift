import CZlib

/// Inflates a zlib or gzip stream held in memory (GIFTI's `GZipBase64Binary` data arrays are
/// zlib streams despite the name), never past `maximumBytes` of output.
public enum ZlibInflate {
    /// Why a stream could not be inflated.
    public enum Failure: Error, CustomStringConvertible, Sendable, Equatable {
        /// zlib refused the stream (`detail` is its message).
        case corrupt(detail: String)
        /// The stream ended before its end marker.
        case truncated
        /// The output would exceed the caller's limit.
        case tooLarge(limit: Int)

        public var description: String {
            switch self {
            case let .corrupt(detail): return "a corrupt zlib stream (\(detail))"
            case .truncated: return "a zlib stream that ends early"
            case let .tooLarge(limit): return "a zlib stream inflating to more than \(limit) bytes"
            }
        }
    }

    /// The inflated bytes of `input` (zlib or gzip framing, detected from the first bytes).
    ///
    /// - Parameter expectedBytes: the size the caller expects (the buffer is sized for it; the
    ///   stream may still be shorter or longer up to `maximumBytes`).
    public static func inflate(_ input: UnsafeRawBufferPointer, expectedBytes: Int = 0, maximumBytes: Int) throws(Failure) -> [UInt8] {
        var stream = z_stream()
        guard inflateInit2_(&stream, 15 + 32, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw .corrupt(detail: "inflateInit2 failed")
        }
        defer { inflateEnd(&stream) }
        var out = [UInt8](repeating: 0, count: max(64, min(expectedBytes, maximumBytes)))
        var produced = 0
        var consumed = 0
        while true {
            if produced == out.count {
                guard out.count < maximumBytes else { throw .tooLarge(limit: maximumBytes) }
                out.append(contentsOf: [UInt8](repeating: 0, count: min(out.count, maximumBytes - out.count)))
            }
            let status: Int32 = out.withUnsafeMutableBytes { o in
                stream.next_in = UnsafeMutablePointer(mutating: input.baseAddress?.advanced(by: consumed).assumingMemoryBound(to: Bytef.self))
                stream.avail_in = UInt32(min(input.count - consumed, Int(UInt32.max)))
                stream.next_out = o.baseAddress!.advanced(by: produced).assumingMemoryBound(to: Bytef.self)
                stream.avail_out = UInt32(min(o.count - produced, Int(UInt32.max)))
                let inBefore = stream.avail_in, outBefore = stream.avail_out
                let s = CZlib.inflate(&stream, Z_NO_FLUSH)
                consumed += Int(inBefore - stream.avail_in)
                produced += Int(outBefore - stream.avail_out)
                return s
            }
            switch status {
            case Z_STREAM_END:
                out.removeLast(out.count - produced)
                return out
            case Z_OK:
                continue
            case Z_BUF_ERROR:
                if stream.avail_out == 0 { continue }
                throw .truncated
            default:
                let message = stream.msg.map { String(cString: $0) } ?? "code \(status)"
                throw .corrupt(detail: message)
            }
        }
    }
}
