import CISAL

/// Inflates a zlib or gzip stream held in memory (GIFTI's `GZipBase64Binary` data arrays are
/// zlib streams despite the name) with ISA-L (about 4× zlib; the Adler-32 or CRC-32 check is
/// verified), never past `maximumBytes` of output.
public enum ZlibInflate {
    /// Why a stream could not be inflated.
    public enum Failure: Error, CustomStringConvertible, Sendable, Equatable {
        /// The stream is not valid deflate data or its check fails (`detail` says which).
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

    /// The inflated bytes of `input` (zlib framing, or gzip when it starts with 1f 8b).
    ///
    /// - Parameter expectedBytes: the size the caller expects (the buffer is sized for it; the
    ///   stream may still be shorter, or longer up to `maximumBytes`).
    public static func inflate(_ input: UnsafeRawBufferPointer, expectedBytes: Int = 0, maximumBytes: Int) throws(Failure) -> [UInt8] {
        guard let source = input.baseAddress, input.count >= 2, input.count <= Int(UInt32.max) else { throw .truncated }
        let state = UnsafeMutablePointer<inflate_state>.allocate(capacity: 1)
        defer { state.deallocate() }
        isal_inflate_init(state)
        state.pointee.crc_flag = UInt32(input[0] == 0x1f && input[1] == 0x8b ? ISAL_GZIP : ISAL_ZLIB)
        state.pointee.next_in = UnsafeMutablePointer(mutating: source.assumingMemoryBound(to: UInt8.self))
        state.pointee.avail_in = UInt32(input.count)
        var out = [UInt8](repeating: 0, count: max(64, min(expectedBytes, maximumBytes)))
        var produced = 0
        while true {
            if produced == out.count {
                guard out.count < maximumBytes else { throw .tooLarge(limit: maximumBytes) }
                out.append(contentsOf: [UInt8](repeating: 0, count: min(out.count, maximumBytes - out.count)))
            }
            let code: Int32 = out.withUnsafeMutableBufferPointer { o in
                state.pointee.next_out = o.baseAddress! + produced
                state.pointee.avail_out = UInt32(min(o.count - produced, Int(UInt32.max)))
                let before = state.pointee.avail_out
                let code = isal_inflate(state)
                produced += Int(before - state.pointee.avail_out)
                return code
            }
            if code < 0 { throw .corrupt(detail: IgzipInflater.describe(code)) }
            if state.pointee.block_state == ISAL_BLOCK_FINISH {
                out.removeLast(out.count - produced)
                return out
            }
            if state.pointee.avail_in == 0 && produced < out.count { throw .truncated }
        }
    }
}
