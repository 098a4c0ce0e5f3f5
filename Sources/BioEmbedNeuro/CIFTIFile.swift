import BioEmbedCore
import BioEmbedHDF5
import Foundation

/// A CIFTI-2 file (`.dtseries.nii`, `.dlabel.nii`, …): a NIfTI-2 matrix `[rows, grayordinates]`
/// whose meaning is the XML in the header extension (code 32), read as nibabel's `cifti2` reads it.
///
/// - Dimension 0 (`dim[5]`, the rows): a series (`.dtseries`: time points, `SeriesStep` = TR) or
///   named label maps (`.dlabel`: one row per map with its label table).
/// - Dimension 1 (`dim[6]`, the columns): brain models — surface vertices of a structure
///   (`CIFTI_STRUCTURE_CORTEX_LEFT`, …) and voxels `ijk` of subcortical structures in one volume.
/// - The data are stored row index fastest: the rows of one grayordinate are contiguous, so the
///   file is read in blocks of whole grayordinates (`forEachBlock`), never held whole.
public struct CIFTIFile: Sendable {
    public let path: String
    public let header: NIfTIHeader
    /// Length of dimension 0 (time points, maps).
    public let rows: Int
    /// Length of dimension 1.
    public let grayordinates: Int
    public let rowKind: RowKind
    public let brainModels: [BrainModel]
    /// The voxel grid of the volume brain models (`Volume` element), when there are any.
    public let volume: Volume?

    public enum RowKind: Sendable, Equatable, CustomStringConvertible {
        /// `CIFTI_INDEX_TYPE_SERIES`: the step in seconds when the unit is `SECOND`.
        case series(stepSeconds: Double?)
        /// `CIFTI_INDEX_TYPE_LABELS`: the map names.
        case labels(maps: [String])
        /// Another index type (scalars, parcels, …), by name.
        case other(String)

        public var description: String {
            switch self {
            case .series: "a series along dimension 0 (a time series)"
            case let .labels(maps): "\(maps.count) label map(s) along dimension 0 (a label file)"
            case let .other(type): "\(type) along dimension 0"
            }
        }
    }

    public struct BrainModel: Sendable {
        public var structure: String
        public var offset: Int
        public var count: Int
        /// Surface models: the vertex of each grayordinate and the mesh's vertex count.
        public var vertices: [Int]?
        public var surfaceVertexCount: Int?
        /// Volume models: `ijk` of each grayordinate.
        public var voxels: [SIMD3<Int>]?
    }

    /// The largest header extension read (the XML of a 91k dense file is about 2 MB).
    static let maximumExtensionBytes = 1 << 28

    public struct Volume: Sendable, Equatable {
        public var dimensions: [Int]
        public var transform: [Double]
    }

    /// Opens `path` and reads its header and CIFTI-2 XML (the data are read by `forEachBlock`).
    ///
    /// - Throws: `NeuroError.invalidInput` naming the file for a NIfTI-1 file, a missing or
    ///   malformed CIFTI-2 extension, or brain models that do not tile the grayordinates.
    public init(_ path: String) throws(NeuroError) {
        self.path = path
        let reader: CompressedFileReader
        do { reader = try CompressedFileReader(path) } catch {
            throw .invalidInput(file: path, expected: "a readable CIFTI-2 file", found: "\(error)")
        }
        let head = try Self.read(reader, count: 544, path: path)
        header = try NIfTIHeader.parse(head, file: path)
        guard header.version == 2 else {
            throw .invalidInput(file: path, expected: "a CIFTI-2 file (NIfTI-2 header)", found: "a NIfTI-1 header")
        }
        let shape = header.shape
        guard shape.count >= 6, shape[0...3].allSatisfy({ $0 == 1 }), shape.dropFirst(6).allSatisfy({ $0 == 1 }) else {
            throw .invalidInput(file: path, expected: "a CIFTI-2 matrix (dim = 1, 1, 1, 1, rows, columns)", found: "dim \(shape)")
        }
        rows = shape[4]
        grayordinates = shape[5]
        guard head.count == 544, head[540] != 0 else {
            throw .invalidInput(file: path, expected: "NIfTI header extensions (the CIFTI-2 XML)", found: "none")
        }
        // Extensions: (esize, ecode, data) records from byte 544 up to vox_offset.
        let little = header.littleEndian
        func int32(_ b: [UInt8], _ i: Int) -> Int {
            let v = UInt32(b[i]) | UInt32(b[i + 1]) << 8 | UInt32(b[i + 2]) << 16 | UInt32(b[i + 3]) << 24
            return Int(Int32(bitPattern: little ? v : v.byteSwapped))
        }
        var position = 544
        var xml: [UInt8]?
        while position + 8 <= header.voxOffset {
            let record = try Self.read(reader, count: 8, path: path)
            guard record.count == 8 else { throw .truncated(file: path, expectedBytes: header.voxOffset, foundBytes: position) }
            let size = int32(record, 0), code = int32(record, 4)
            guard size >= 8, position + size <= header.voxOffset, size <= Self.maximumExtensionBytes else {
                throw .invalidInput(file: path, expected: "header extensions inside the \(header.voxOffset) bytes before the data", found: "an extension of \(size) bytes at byte \(position)")
            }
            let body = try Self.read(reader, count: size - 8, path: path)
            guard body.count == size - 8 else { throw .truncated(file: path, expectedBytes: header.voxOffset, foundBytes: position + 8 + body.count) }
            if code == 32 { xml = body }
            position += size
        }
        guard let xml else {
            throw .invalidInput(file: path, expected: "a CIFTI-2 header extension (code 32)", found: "none")
        }
        let root: MarkupElement
        do { root = try xml.withUnsafeBytes { raw throws(MarkupElement.Failure) in try MarkupElement.parse(raw) } } catch {
            throw .invalidInput(file: path, expected: "well-formed CIFTI-2 XML in the header extension", found: "\(error)")
        }
        guard root.name == "CIFTI", let matrix = root.child("Matrix") else {
            throw .invalidInput(file: path, expected: "<CIFTI><Matrix> in the header extension", found: "<\(root.name)>")
        }
        guard (root.attributes["Version"] ?? "").hasPrefix("2") else {
            throw .invalidInput(file: path, expected: "CIFTI version 2", found: "version '\(root.attributes["Version"] ?? "")'")
        }
        var rowKind: RowKind?
        var models: [BrainModel]?
        var volume: Volume?
        for map in matrix.children("MatrixIndicesMap") {
            let applies = (map.attributes["AppliesToMatrixDimension"] ?? "").split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
            let type = map.attributes["IndicesMapToDataType"] ?? ""
            if applies.contains(0) {
                switch type {
                case "CIFTI_INDEX_TYPE_SERIES":
                    var step: Double?
                    if map.attributes["SeriesUnit"] == "SECOND", let s = Double(map.attributes["SeriesStep"] ?? ""), s.isFinite, s > 0 {
                        let exponent = Double(map.attributes["SeriesExponent"] ?? "0") ?? 0
                        step = s * pow(10, exponent)
                    }
                    rowKind = .series(stepSeconds: step)
                case "CIFTI_INDEX_TYPE_LABELS":
                    rowKind = .labels(maps: map.children("NamedMap").map { $0.child("MapName")?.string ?? "" })
                default:
                    rowKind = .other(type)
                }
            }
            if applies.contains(1) {
                guard type == "CIFTI_INDEX_TYPE_BRAIN_MODELS" else {
                    throw .invalidInput(file: path, expected: "brain models (grayordinates) along dimension 1", found: type)
                }
                (models, volume) = try Self.brainModels(map, grayordinates: grayordinates, path: path)
            }
        }
        guard let rowKind, let models else {
            throw .invalidInput(file: path, expected: "index maps for both matrix dimensions", found: "\(matrix.children("MatrixIndicesMap").count) map(s)")
        }
        self.rowKind = rowKind
        self.brainModels = models
        self.volume = volume
        // The data must be in the file before anything is sized by them.
        guard let type = header.storage else {
            throw .invalidInput(file: path, expected: "a real-valued datatype", found: "NIfTI datatype \(header.datatype)")
        }
        let (bytes, overflow) = rows.multipliedReportingOverflow(by: grayordinates * type.size)
        if let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size]) as? Int {
            if !reader.isCompressed {
                guard !overflow, size >= header.voxOffset + bytes else {
                    throw .truncated(file: path, expectedBytes: bytes, foundBytes: max(0, size - header.voxOffset))
                }
            } else if overflow || bytes / NIfTIReader.maximumDeflateRatio > size {
                throw .invalidInput(
                    file: path, expected: "at most \(NIfTIReader.maximumDeflateRatio)× its \(size) compressed bytes of data",
                    found: "a header claiming \(rows) × \(grayordinates) values")
            }
        }
        // per grayordinate, readers keep a label key or a column index, and a block holds whole rows
        guard MemoryBudget.fits([grayordinates], elementSize: 16), MemoryBudget.fits([rows], elementSize: 2 * MemoryLayout<Double>.stride) else {
            throw .invalidInput(
                file: path, expected: "a matrix within the memory budget of one input (\(MemoryBudget.describe(MemoryBudget.perInput)))",
                found: "\(rows) rows × \(grayordinates) grayordinates")
        }
    }

    /// The brain models of a `CIFTI_INDEX_TYPE_BRAIN_MODELS` map, checked to tile `0..<grayordinates`.
    static func brainModels(_ map: MarkupElement, grayordinates: Int, path: String) throws(NeuroError) -> ([BrainModel], Volume?) {
        var models: [BrainModel] = []
        var next = 0
        for element in map.children("BrainModel") {
            guard let offset = Int(element.attributes["IndexOffset"] ?? ""), let count = Int(element.attributes["IndexCount"] ?? ""),
                  offset == next, count >= 0, count <= grayordinates - offset else {
                throw .invalidInput(
                    file: path, expected: "brain models covering grayordinates 0..<\(grayordinates) in order",
                    found: "IndexOffset '\(element.attributes["IndexOffset"] ?? "")', IndexCount '\(element.attributes["IndexCount"] ?? "")' after \(next)")
            }
            next += count
            let structure = element.attributes["BrainStructure"] ?? ""
            var model = BrainModel(structure: structure, offset: offset, count: count)
            switch element.attributes["ModelType"] ?? "" {
            case "CIFTI_MODEL_TYPE_SURFACE":
                guard let n = Int(element.attributes["SurfaceNumberOfVertices"] ?? ""), n >= count else {
                    throw .invalidInput(file: path, expected: "SurfaceNumberOfVertices ≥ IndexCount for \(structure)", found: "'\(element.attributes["SurfaceNumberOfVertices"] ?? "")'")
                }
                let vertices = try integers(element.child("VertexIndices")?.text ?? [], what: "vertex indices of \(structure)", path: path)
                guard vertices.count == count, vertices.allSatisfy({ $0 >= 0 && $0 < n }) else {
                    throw .invalidInput(file: path, expected: "\(count) vertex indices below \(n) for \(structure)", found: "\(vertices.count) indices (or one out of range)")
                }
                model.vertices = vertices
                model.surfaceVertexCount = n
            case "CIFTI_MODEL_TYPE_VOXELS":
                let flat = try integers(element.child("VoxelIndicesIJK")?.text ?? [], what: "voxel indices of \(structure)", path: path)
                guard flat.count == 3 * count, flat.allSatisfy({ $0 >= 0 }) else {
                    throw .invalidInput(file: path, expected: "\(count) non-negative ijk triples for \(structure)", found: "\(flat.count) integers")
                }
                model.voxels = (0..<count).map { SIMD3(flat[3 * $0], flat[3 * $0 + 1], flat[3 * $0 + 2]) }
            case let other:
                throw .invalidInput(file: path, expected: "ModelType CIFTI_MODEL_TYPE_SURFACE or CIFTI_MODEL_TYPE_VOXELS for \(structure)", found: "'\(other)'")
            }
            models.append(model)
        }
        guard next == grayordinates else {
            throw .invalidInput(file: path, expected: "brain models covering all \(grayordinates) grayordinates", found: "\(next)")
        }
        var volume: Volume?
        if let v = map.child("Volume") {
            let dims = (v.attributes["VolumeDimensions"] ?? "").split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
            let transform = String(decoding: v.child("TransformationMatrixVoxelIndicesIJKtoXYZ")?.text ?? [], as: UTF8.self)
                .split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "\t" || $0 == "\r" }).compactMap { Double($0) }
            guard dims.count == 3, dims.allSatisfy({ $0 > 0 }), transform.count == 16 else {
                throw .invalidInput(file: path, expected: "a Volume with 3 dimensions and a 4×4 transform", found: "dimensions \(dims), \(transform.count) transform values")
            }
            volume = Volume(dimensions: dims, transform: transform)
            for model in models {
                if let voxels = model.voxels, voxels.contains(where: { $0.x >= dims[0] || $0.y >= dims[1] || $0.z >= dims[2] }) {
                    throw .invalidInput(file: path, expected: "voxel indices inside the volume \(dims) for \(model.structure)", found: "one outside")
                }
            }
        } else if models.contains(where: { $0.voxels != nil }) {
            throw .invalidInput(file: path, expected: "a Volume element for the voxel brain models", found: "none")
        }
        return (models, volume)
    }

    static func integers(_ text: [UInt8], what: String, path: String) throws(NeuroError) -> [Int] {
        var out: [Int] = []
        var value = 0, digits = 0
        for c in text {
            if c >= 0x30 && c <= 0x39 {
                guard digits < 12 else { throw .invalidInput(file: path, expected: "\(what) as integers", found: "a number of more than 12 digits") }
                value = value * 10 + Int(c - 0x30)
                digits += 1
            } else if MarkupElement.isSpace(c) {
                if digits > 0 { out.append(value); value = 0; digits = 0 }
            } else {
                throw .invalidInput(file: path, expected: "\(what) as non-negative integers", found: "the character '\(Character(Unicode.Scalar(c)))'")
            }
        }
        if digits > 0 { out.append(value) }
        return out
    }

    /// Streams the data in blocks of whole grayordinates: `body(first, count, values)` with
    /// `values[g * rows + r]` for grayordinate `first + g`, row `r` (scaled as nibabel scales).
    public func forEachBlock(maximumBytes: Int = 1 << 23, _ body: (Int, Int, UnsafeBufferPointer<Double>) throws(NeuroError) -> Void) throws(NeuroError) {
        guard let type = header.storage else { return }
        let reader: CompressedFileReader
        do { reader = try CompressedFileReader(path) } catch {
            throw .invalidInput(file: path, expected: "a readable CIFTI-2 file", found: "\(error)")
        }
        var skip = header.voxOffset
        var scratch = [UInt8](repeating: 0, count: 1 << 16)
        while skip > 0 {
            let got = try NIfTIReader.fill(reader, &scratch, count: min(skip, scratch.count), path: path)
            guard got > 0 else { throw .truncated(file: path, expectedBytes: rows * grayordinates * type.size, foundBytes: 0) }
            skip -= got
        }
        let rowBytes = max(1, rows * type.size)
        let perBlock = max(1, min(grayordinates, maximumBytes / rowBytes))
        let raw = UnsafeMutableRawBufferPointer.allocate(byteCount: perBlock * rowBytes, alignment: 16)
        defer { raw.deallocate() }
        var values = [Double](repeating: 0, count: perBlock * rows)
        let swap = header.littleEndian != NIfTIConversion.hostLittle
        let scaling = header.sclSlope != 0 && header.sclSlope.isFinite ? (header.sclSlope, header.sclInter) : (1.0, 0.0)
        var first = 0
        while first < grayordinates {
            let count = min(perBlock, grayordinates - first)
            let bytes = count * rowBytes
            var filled = 0
            while filled < bytes {
                let n: Int
                do { n = try reader.read(into: UnsafeMutableRawBufferPointer(rebasing: raw[filled..<bytes])) } catch {
                    throw .invalidInput(file: path, expected: "a readable data block", found: "\(error)")
                }
                guard n > 0 else {
                    throw .truncated(file: path, expectedBytes: rows * grayordinates * type.size, foundBytes: first * rowBytes + filled)
                }
                filled += n
            }
            try values.withUnsafeMutableBufferPointer { (v: inout UnsafeMutableBufferPointer<Double>) throws(NeuroError) in
                let out = UnsafeMutableBufferPointer(rebasing: v[0..<(count * rows)])
                NIfTIConversion.convert(UnsafeRawBufferPointer(rebasing: raw[0..<bytes]), type: type, swap: swap, slope: scaling.0, inter: scaling.1, into: out)
                try body(first, count, UnsafeBufferPointer(out))
            }
            first += count
        }
    }

    private static func read(_ reader: CompressedFileReader, count: Int, path: String) throws(NeuroError) -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: count)
        let n = try NIfTIReader.fill(reader, &buffer, path: path)
        buffer.removeLast(count - n)
        return buffer
    }
}
