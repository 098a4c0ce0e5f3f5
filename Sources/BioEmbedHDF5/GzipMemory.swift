import BioEmbedCore
import CZlib

/// Inflates gzip (or zlib) content held in memory, such as a `.gz` member of a tar archive;
/// concatenated gzip members are read one after another, as `gunzip` does. Output beyond `limit`
/// bytes is refused (a gzip bomb), not allocated.
public enum GzipMemory {
    public static func inflate(_ input: [UInt8], name: String, limit: Int = MemoryBudget.perInput) throws -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(min(limit, max(input.count * 4, 1 << 16)))
        var stream = z_stream()
        // 15 + 32: a window of 2^15 and automatic gzip/zlib header detection
        guard inflateInit2_(&stream, 15 + 32, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw CoreError.unreadable(file: name, reason: "zlib could not start")
        }
        defer { inflateEnd(&stream) }
        let chunk = 1 << 16
        var block = [UInt8](repeating: 0, count: chunk)
        try input.withUnsafeBufferPointer { source in
            var consumed = 0
            while consumed < source.count {
                stream.next_in = UnsafeMutablePointer(mutating: source.baseAddress! + consumed)
                stream.avail_in = UInt32(min(source.count - consumed, Int(UInt32.max)))
                var code: Int32 = Z_OK
                repeat {
                    code = block.withUnsafeMutableBufferPointer { out -> Int32 in
                        stream.next_out = out.baseAddress
                        stream.avail_out = UInt32(chunk)
                        return CZlib.inflate(&stream, Z_NO_FLUSH)
                    }
                    let produced = chunk - Int(stream.avail_out)
                    guard output.count + produced <= limit else {
                        throw CoreError.unreadable(file: name, reason: "more than \(MemoryBudget.describe(limit)) when inflated, the memory budget of one input")
                    }
                    output.append(contentsOf: block[0..<produced])
                    guard code == Z_OK || code == Z_STREAM_END || (code == Z_BUF_ERROR && stream.avail_in == 0) else {
                        throw CoreError.unreadable(file: name, reason: "corrupt gzip stream (zlib code \(code))")
                    }
                } while code == Z_OK && (stream.avail_in > 0 || stream.avail_out == 0)
                let used = source.count - consumed - Int(stream.avail_in)
                consumed += used
                if code == Z_STREAM_END {
                    // another gzip member may follow (trailing zero padding ends the content)
                    if source[consumed...].allSatisfy({ $0 == 0 }) { break }
                    inflateReset(&stream)
                } else if used == 0 || stream.avail_in == 0 && code != Z_STREAM_END && consumed >= source.count {
                    throw CoreError.unreadable(file: name, reason: "truncated gzip stream")
                }
            }
        }
        return output
    }
}
