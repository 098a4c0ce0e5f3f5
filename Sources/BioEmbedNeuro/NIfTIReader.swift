import BioEmbedCore
import BioEmbedHDF5
import Foundation

/// Streams the volumes of a `.nii` / `.nii.gz` file (NIfTI-1 or NIfTI-2, either byte order).
///
/// The header is parsed on `init`; `readVolume(into:)` then inflates and converts one 3D volume at
/// a time to `Double`, with `scl_slope`/`scl_inter` applied as nibabel does (`raw·slope + inter`
/// in float64 when the slope is finite and non-zero). Memory: one volume of raw bytes plus the
/// caller's `Double` buffer, whatever the number of volumes. Data are Fortran order (x fastest).
///
/// - Complexity: O(voxels) per volume; gzip inflation dominates for `.nii.gz`.
public final class NIfTIReader {
    public let path: String
    public let header: NIfTIHeader
    private let reader: CompressedFileReader
    private var raw: UnsafeMutableRawBufferPointer
    /// Volumes read so far.
    public private(set) var volumesRead = 0

    /// Opens `path` and reads its header and extensions up to `vox_offset`.
    ///
    /// - Throws: `NeuroError` naming the file when it is missing, not NIfTI, or truncated.
    public init(_ path: String) throws(NeuroError) {
        self.path = path
        do { reader = try CompressedFileReader(path) } catch {
            throw .invalidInput(file: path, expected: "a readable NIfTI file", found: "\(error)")
        }
        var first = [UInt8](repeating: 0, count: 540)
        let got = try Self.fill(reader, &first, path: path)
        header = try NIfTIHeader.parse(Array(first[0..<got]), file: path)
        let headerSize = header.version == 1 ? 348 : 540
        let offset = max(header.voxOffset, header.version == 1 ? 352 : 544)
        if header.voxOffset > 0 && header.voxOffset < headerSize {
            throw .invalidInput(file: path, expected: "vox_offset ≥ \(headerSize)", found: "\(header.voxOffset)")
        }
        // The data the header claims must fit in the file before anything is allocated for it: an
        // uncompressed file's size is the data's; deflate shrinks data at most 1032-fold.
        let volumeBytes = header.voxelsPerVolume * (header.storage?.size ?? 1)
        let dataBytes = volumeBytes * header.volumeCount  // ≤ 2^48: checked by the header
        if let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size]) as? Int {
            if !reader.isCompressed, size < offset + dataBytes {
                throw .truncated(file: path, expectedBytes: dataBytes, foundBytes: max(0, size - offset))
            }
            if reader.isCompressed, dataBytes / Self.maximumDeflateRatio > size {
                throw .invalidInput(
                    file: path, expected: "at most \(Self.maximumDeflateRatio)× its \(size) compressed bytes of data",
                    found: "a header claiming \(dataBytes) bytes (dim = \(header.shape))")
            }
        }
        // One volume is held at a time, as doubles: it must fit the memory budget of one input.
        guard header.voxelsPerVolume * MemoryLayout<Double>.stride <= MemoryBudget.perInput else {
            throw .invalidInput(
                file: path, expected: "volumes of at most \(MemoryBudget.describe(MemoryBudget.perInput)) as float64 (the memory budget of one input)",
                found: "\(header.voxelsPerVolume) voxels per volume (dim = \(header.shape))")
        }
        raw = .allocate(byteCount: max(1, volumeBytes), alignment: 16)
        // Skip the extensions (already partly read into `first`).
        var skip = offset - got
        if skip < 0 {
            // NIfTI-1 files whose data start before byte 540: keep the overshoot as the first data bytes.
            pending = Array(first[offset..<got])
            skip = 0
        }
        var scratch = [UInt8](repeating: 0, count: min(skip, 1 << 16))
        while skip > 0 {
            let want = min(skip, scratch.count)
            var chunk = [UInt8](repeating: 0, count: want)
            let n = try Self.fill(reader, &chunk, path: path)
            if n < want { throw .truncated(file: path, expectedBytes: skip, foundBytes: n) }
            skip -= n
            scratch.removeAll(keepingCapacity: true)
            scratch = [UInt8](repeating: 0, count: min(skip, 1 << 16))
        }
    }

    private var pending: [UInt8] = []

    /// The most deflate can shrink data (a long run of one byte): 1032 to 1.
    static let maximumDeflateRatio = 1032

    deinit { raw.deallocate() }

    /// Reads the next volume into `out` (`voxelsPerVolume` values, x fastest), scaled.
    ///
    /// - Throws: `NeuroError.truncated` when the file ends early.
    public func readVolume(into out: UnsafeMutableBufferPointer<Double>) throws(NeuroError) {
        guard let type = header.storage else { return }
        precondition(out.count >= header.voxelsPerVolume)
        let raw = try readRawVolume()
        NIfTIConversion.convert(
            raw, type: type, swap: swapped, slope: scaling.slope, inter: scaling.inter, into: out)
    }

    /// Whether the file's byte order differs from this machine's.
    var swapped: Bool { header.littleEndian != NIfTIConversion.hostLittle }
    /// `(slope, inter)` to apply: (1, 0) when `scl_slope` is 0 or not finite.
    var scaling: (slope: Double, inter: Double) {
        header.sclSlope != 0 && header.sclSlope.isFinite ? (header.sclSlope, header.sclInter) : (1, 0)
    }

    /// Inflates the next volume's stored bytes (valid until the next read).
    func readRawVolume() throws(NeuroError) -> UnsafeRawBufferPointer {
        guard let type = header.storage else { return UnsafeRawBufferPointer(start: nil, count: 0) }
        let count = header.voxelsPerVolume
        let bytes = count * type.size
        guard volumesRead < header.volumeCount else {
            throw .invalidInput(file: path, expected: "at most \(header.volumeCount) volumes", found: "a request for volume \(volumesRead + 1)")
        }
        var filled = 0
        if !pending.isEmpty {
            let n = min(pending.count, bytes)
            pending.withUnsafeBytes { raw.baseAddress!.copyMemory(from: $0.baseAddress!, byteCount: n) }
            pending.removeFirst(n)
            filled = n
        }
        while filled < bytes {
            let n: Int
            do { n = try reader.read(into: UnsafeMutableRawBufferPointer(rebasing: raw[filled..<bytes])) } catch {
                throw .invalidInput(file: path, expected: "a complete gzip stream", found: "\(Self.detail(error))")
            }
            if n == 0 {
                let done = volumesRead * bytes + filled
                throw .truncated(file: path, expectedBytes: header.volumeCount * bytes, foundBytes: done)
            }
            filled += n
        }
        volumesRead += 1
        return UnsafeRawBufferPointer(rebasing: raw[0..<bytes])
    }

    /// Reads the next volume into `out` (resized to `voxelsPerVolume`).
    public func readVolume(into out: inout [Double]) throws(NeuroError) {
        if out.count != header.voxelsPerVolume { out = [Double](repeating: 0, count: header.voxelsPerVolume) }
        var failure: NeuroError?
        out.withUnsafeMutableBufferPointer { buffer in
            do { try readVolume(into: buffer) } catch { failure = error as? NeuroError ?? .invalidInput(file: path, expected: "a readable volume", found: "\(error)") }
        }
        if let failure { throw failure }
    }

    /// Reads every volume of a (small) image: atlases, maps. `[volumes][voxels]` flattened.
    public static func readAll(_ path: String) throws(NeuroError) -> (header: NIfTIHeader, data: [Double]) {
        let reader = try NIfTIReader(path)
        let n = reader.header.voxelsPerVolume
        var data = [Double](repeating: 0, count: n * reader.header.volumeCount)
        for v in 0..<reader.header.volumeCount {
            var volume = [Double](repeating: 0, count: n)
            try reader.readVolume(into: &volume)
            data.replaceSubrange((v * n)..<((v + 1) * n), with: volume)
        }
        return (reader.header, data)
    }

    /// Reads only the header of `path`.
    public static func header(of path: String) throws(NeuroError) -> NIfTIHeader {
        try NIfTIReader(path).header
    }

    /// Reads up to `count` (default: all of `buffer`) bytes into `buffer`; fewer only at the end of the file.
    static func fill(_ reader: CompressedFileReader, _ buffer: inout [UInt8], count: Int? = nil, path: String) throws(NeuroError) -> Int {
        var total = 0
        let count = min(count ?? buffer.count, buffer.count)
        var failure: HDF5Error?
        buffer.withUnsafeMutableBytes { all in
            while total < count {
                do {
                    let n = try reader.read(into: UnsafeMutableRawBufferPointer(rebasing: all[total..<count]))
                    if n == 0 { break }
                    total += n
                } catch {
                    failure = error as? HDF5Error ?? .missingFile(file: path)
                    break
                }
            }
        }
        if let failure { throw .invalidInput(file: path, expected: "a complete gzip stream", found: detail(failure)) }
        return total
    }

    private static func detail(_ error: HDF5Error) -> String {
        let text = "\(error)"
        if text.contains("unexpected end of file") { return "a stream that ends early (truncated file)" }
        return text
    }
}
