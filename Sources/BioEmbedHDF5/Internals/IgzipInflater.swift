import CISAL
import Foundation

/// Streaming gzip inflation with Intel ISA-L (`isal_inflate`, gzip header and CRC-32 trailer
/// checked), about 4× zlib's speed: the fast path of `CompressedFileReader` for gzip files.
/// Concatenated gzip members are read one after another, as zlib's `gzread` does.
final class IgzipInflater {
    private let path: String
    private let file: UnsafeMutablePointer<FILE>
    private let state: UnsafeMutablePointer<inflate_state>
    private let input: UnsafeMutableRawBufferPointer
    private var endOfFile = false
    private var finished = false
    /// Bytes of the file still to read (a member of an archive is a byte range of its file).
    private var remaining: Int

    init?(path: String, range: ByteRange? = nil) {
        guard let file = fopen(path, "rb") else { return nil }
        if let range, fseeko(file, off_t(range.offset), SEEK_SET) != 0 {
            fclose(file)
            return nil
        }
        remaining = range?.length ?? Int.max
        self.path = path
        self.file = file
        state = .allocate(capacity: 1)
        isal_inflate_init(state)
        state.pointee.crc_flag = UInt32(ISAL_GZIP)
        input = .allocate(byteCount: 1 << 20, alignment: 64)
        state.pointee.avail_in = 0
    }

    deinit {
        fclose(file)
        state.deallocate()
        input.deallocate()
    }

    /// Fills `buffer` as far as the stream goes; 0 at the end. A truncated or corrupt stream throws
    /// (after the bytes that could be inflated were returned, as zlib's `gzread` does).
    func read(into buffer: UnsafeMutableRawBufferPointer) throws(HDF5Error) -> Int {
        if truncated { throw HDF5Error.call(file: path, object: "/", operation: "gzread", detail: "unexpected end of file") }
        guard let base = buffer.baseAddress, buffer.count > 0, !finished else { return 0 }
        let capacity = UInt32(min(buffer.count, Int(UInt32.max)))
        state.pointee.next_out = base.assumingMemoryBound(to: UInt8.self)
        state.pointee.avail_out = capacity
        while state.pointee.avail_out > 0 {
            if state.pointee.block_state == ISAL_BLOCK_FINISH {
                // End of one member: another may follow (multi-member gzip); anything else ends the stream.
                if state.pointee.avail_in < 2 && !endOfFile { keepAndRefill(); continue }
                if state.pointee.avail_in >= 2, let next = state.pointee.next_in, next[0] == 0x1f, next[1] == 0x8b {
                    let (pointer, count) = (state.pointee.next_in, state.pointee.avail_in)
                    let (out, room) = (state.pointee.next_out, state.pointee.avail_out)
                    isal_inflate_reset(state)
                    state.pointee.crc_flag = UInt32(ISAL_GZIP)
                    state.pointee.next_in = pointer
                    state.pointee.avail_in = count
                    state.pointee.next_out = out
                    state.pointee.avail_out = room
                    continue
                }
                finished = true
                break
            }
            if state.pointee.avail_in == 0 && !endOfFile { keepAndRefill(); continue }
            let before = state.pointee.avail_out
            let code = isal_inflate(state)
            if code < 0 {
                throw HDF5Error.call(file: path, object: "/", operation: "gzread", detail: Self.describe(code))
            }
            if state.pointee.avail_in == 0 && endOfFile && state.pointee.block_state != ISAL_BLOCK_FINISH
                && state.pointee.avail_out == before {
                // All input consumed, nothing more comes out, the stream is not finished: truncated.
                let produced = Int(capacity - state.pointee.avail_out)
                truncated = true
                if produced > 0 { return produced }
                throw HDF5Error.call(file: path, object: "/", operation: "gzread", detail: "unexpected end of file")
            }
        }
        return Int(capacity - state.pointee.avail_out)
    }

    private var truncated = false

    /// Moves the unread input bytes to the front of the buffer and reads more after them.
    private func keepAndRefill() {
        let kept = Int(state.pointee.avail_in)
        if kept > 0, let next = state.pointee.next_in { memmove(input.baseAddress!, next, kept) }
        let want = min(input.count - kept, remaining)
        let n = fread(input.baseAddress! + kept, 1, want, file)
        remaining -= n
        if n < want || remaining == 0 { endOfFile = true }
        state.pointee.next_in = input.baseAddress!.assumingMemoryBound(to: UInt8.self)
        state.pointee.avail_in = UInt32(kept + n)
    }

    static func describe(_ code: Int32) -> String {
        switch code {
        case ISAL_INVALID_BLOCK: "invalid compressed data (bad deflate block)"
        case ISAL_INVALID_SYMBOL: "invalid compressed data (bad deflate symbol)"
        case ISAL_INVALID_LOOKBACK: "invalid compressed data (bad distance)"
        case ISAL_INCORRECT_CHECKSUM: "incorrect data check (CRC-32 mismatch)"
        case ISAL_INVALID_WRAPPER: "not a valid gzip header"
        case ISAL_UNSUPPORTED_METHOD: "unsupported compression method"
        default: "inflate error \(code)"
        }
    }
}
