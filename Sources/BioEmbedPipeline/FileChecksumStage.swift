import BioEmbedCore
import BioEmbedHDF5
import Foundation

/// The `checksum` stage: fingerprints each input file (the demo's first stage, and a quick way to
/// see that a manifest points at the files one expects).
///
/// Per file: its size and SHA-256 as stored, and over its content (gzip-decompressed when the file
/// is gzip-compressed and `decompress` is on): the content size, a 256-bin byte histogram and the
/// CRC-32 of every `block_size` block (a ragged array, `block_offsets`).
public struct FileChecksumStage: Stage {
    public struct Configuration: StageConfiguration {
        /// Bytes per CRC-32 block (≥ 1).
        public var blockSize: Int = defaultBlockSize
        /// Fingerprint the decompressed content of `.gz` files.
        public var decompress: Bool = true

        public static let defaultBlockSize = 65_536
        public static let parameters = [
            StageParameter("block_size", .integer, default: defaultBlockSize, unit: "bytes", help: "Bytes per CRC-32 block (at least 1)."),
            StageParameter("decompress", .boolean, default: true, help: "Fingerprint the decompressed content of gzip files."),
        ]

        public init(blockSize: Int = defaultBlockSize, decompress: Bool = true) {
            self.blockSize = blockSize
            self.decompress = decompress
        }

        enum CodingKeys: String, CodingKey, CaseIterable {
            case blockSize = "block_size"
            case decompress
        }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            blockSize = try container.decodeIfPresent(Int.self, forKey: .blockSize) ?? Self.defaultBlockSize
            decompress = try container.decodeIfPresent(Bool.self, forKey: .decompress) ?? true
            guard blockSize >= 1 else {
                throw DecodingError.dataCorruptedError(forKey: .blockSize, in: container, debugDescription: "expected a positive block size, found \(blockSize)")
            }
        }
    }

    public static let name = "checksum"
    public static let startupNeeds: StartupNeeds = []
    public static let version = 1
    public static let collection = "files"
    public static let summary = "size, SHA-256, byte histogram and per-block CRC-32 of each input file"

    public let configuration: Configuration
    public init(_ configuration: Configuration) { self.configuration = configuration }

    public var fields: [FieldSpec] {
        [
            FieldSpec("path", .string, .perItem(rowShape: [])),
            FieldSpec("size", .int64, .perItem(rowShape: [])),
            FieldSpec("content_size", .int64, .perItem(rowShape: [])),
            FieldSpec("sha256", .string, .perItem(rowShape: [])),
            FieldSpec("byte_histogram", .int64, .perItem(rowShape: [256]), compressed: true),
            FieldSpec("block_crc32", .int64, .ragged(offsets: "block_offsets", rowShape: [])),
        ]
    }

    public var collectionAttributes: [String: MetadataValue] { ["block_size": .int(Int64(configuration.blockSize))] }

    public func process(_ item: ManifestItem, context: StageContext) throws -> ItemRecord {
        guard let path = item.path() else {
            throw CoreError.invalidItem(file: item.id, problem: "the manifest row has no path")
        }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw CoreError.unreadable(file: path, reason: "no such file")
        }
        guard !isDirectory.boolValue else { throw CoreError.unreadable(file: path, reason: "is a folder, expected a file") }
        let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
        let sha = try FileDigest.sha256(ofFile: path)

        var histogram = [Int64](repeating: 0, count: 256)
        var crcs: [Int64] = []
        var contentSize = 0
        var blockCRC: UInt32 = 0
        var blockFill = 0
        let blockSize = configuration.blockSize
        func consume(_ bytes: UnsafeRawBufferPointer) {
            contentSize += bytes.count
            histogram.withUnsafeMutableBufferPointer { h in
                for byte in bytes { h[Int(byte)] += 1 }
            }
            var start = 0
            while start < bytes.count {
                let take = min(blockSize - blockFill, bytes.count - start)
                blockCRC = CompressedFileReader.crc32(UnsafeRawBufferPointer(rebasing: bytes[start..<(start + take)]), previous: blockCRC)
                blockFill += take
                start += take
                if blockFill == blockSize {
                    crcs.append(Int64(blockCRC))
                    blockCRC = 0
                    blockFill = 0
                }
            }
        }
        if configuration.decompress {
            do {
                try CompressedFileReader(path).forEachBlock { consume($0) }
            } catch let error as HDF5Error {
                throw CoreError.invalidItem(file: path, problem: "corrupt gzip stream (\(error))")
            }
        } else {
            guard let handle = FileHandle(forReadingAtPath: path) else { throw CoreError.unreadable(file: path, reason: "permission denied") }
            defer { try? handle.close() }
            while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty {
                chunk.withUnsafeBytes { consume($0) }
            }
        }
        if blockFill > 0 { crcs.append(Int64(blockCRC)) }
        return ItemRecord(id: item.id, values: [
            "path": .strings([item.fields["path"] ?? path]),
            "size": .int64([Int64(size)]),
            "content_size": .int64([Int64(contentSize)]),
            "sha256": .strings([sha]),
            "byte_histogram": .int64(histogram),
            "block_crc32": .int64(crcs),
        ])
    }
}
