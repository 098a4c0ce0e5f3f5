import CHDF5
import CISAL

/// Appends rows to a chunked dataset created with shuffle + deflate by writing whole chunks
/// directly (`H5Dwrite_chunk`): each chunk is shuffled here and deflated by ISA-L into the zlib
/// format HDF5's deflate filter reads, several times faster than HDF5's pipeline with zlib. Readers
/// see an ordinary shuffle + gzip dataset.
///
/// Rows are buffered until a chunk is full; `finish()` writes the last, partial chunk (padded with
/// zeros beyond the extent, as HDF5 stores it) and sets the final extent. A chunk that deflate
/// would not shrink is stored as is, marked as not filtered (as HDF5 does with its optional
/// filters). Numeric element types only.
final class DeflateChunkAppender {
    let dataset: HDF5Dataset
    private let chunkRows: Int
    private let rowBytes: Int
    private let elementSize: Int
    private let chunkBytes: Int
    private let chunk: UnsafeMutableRawPointer
    private let shuffled: UnsafeMutablePointer<UInt8>
    private let compressed: UnsafeMutablePointer<UInt8>
    private let compressedCapacity: Int
    private let levelBuffer: UnsafeMutablePointer<UInt8>
    private let levelBufferSize: UInt32
    /// Rows of the chunk being filled, and rows in the chunks before it.
    private var bufferedRows = 0
    private var completeRows: Int
    private let rank: Int

    /// `dataset` must be empty or end on a chunk boundary (a dataset this appender created rows of).
    init(dataset: HDF5Dataset, chunkRows: Int, rowWidth: Int, elementSize: Int) {
        self.dataset = dataset
        self.chunkRows = chunkRows
        self.elementSize = elementSize
        rowBytes = rowWidth * elementSize
        chunkBytes = chunkRows * rowBytes
        chunk = .allocate(byteCount: chunkBytes, alignment: 64)
        shuffled = .allocate(capacity: chunkBytes)
        compressedCapacity = chunkBytes + chunkBytes / 8 + 1024
        compressed = .allocate(capacity: compressedCapacity)
        levelBufferSize = bioembed_isal_level1_buffer_size()
        levelBuffer = .allocate(capacity: Int(levelBufferSize))
        let shape = dataset.shape
        completeRows = shape.first ?? 0
        rank = shape.count
    }

    deinit {
        chunk.deallocate()
        shuffled.deallocate()
        compressed.deallocate()
        levelBuffer.deallocate()
    }

    /// Rows appended so far (written or buffered).
    var rows: Int { completeRows + bufferedRows }

    func append(_ bytes: UnsafeRawPointer, rows count: Int) throws(HDF5Error) {
        var source = bytes
        var left = count
        while left > 0 {
            let take = min(left, chunkRows - bufferedRows)
            (chunk + bufferedRows * rowBytes).copyMemory(from: source, byteCount: take * rowBytes)
            bufferedRows += take
            source += take * rowBytes
            left -= take
            if bufferedRows == chunkRows {
                try writeChunk()
                completeRows += chunkRows
                bufferedRows = 0
            }
        }
    }

    /// Writes the partial chunk (kept, so that later rows complete and rewrite it) and sets the
    /// extent to every row appended.
    func finish() throws(HDF5Error) {
        guard bufferedRows > 0 else { return }
        (chunk + bufferedRows * rowBytes).initializeMemory(as: UInt8.self, repeating: 0, count: chunkBytes - bufferedRows * rowBytes)
        try writeChunk()
    }

    private func writeChunk() throws(HDF5Error) {
        let object = dataset.path, fileName = dataset.file.path
        // extent first: a chunk may only be written where the dataset reaches
        var dims = [hsize_t](repeating: 0, count: rank)
        let current = dataset.shape
        for d in 1..<max(rank, 1) where d < current.count { dims[d] = hsize_t(current[d]) }
        dims[0] = hsize_t(completeRows + bufferedRows)
        if current.first != Int(dims[0]) {
            try H5.check(H5Dset_extent(dataset.handle.id, &dims), "H5Dset_extent", file: fileName, object: object)
        }
        // shuffle: byte k of every element together (HDF5's shuffle filter), then deflate
        let elements = chunkBytes / elementSize
        let input = chunk.assumingMemoryBound(to: UInt8.self)
        if elementSize == 1 {
            shuffled.update(from: input, count: chunkBytes)
        } else {
            for k in 0..<elementSize {
                let out = shuffled + k * elements
                var p = input + k
                for e in 0..<elements {
                    out[e] = p.pointee
                    p += elementSize
                }
            }
        }
        var stream = isal_zstream()
        isal_deflate_stateless_init(&stream)
        stream.level = 1
        stream.level_buf = levelBuffer
        stream.level_buf_size = levelBufferSize
        stream.gzip_flag = UInt16(IGZIP_ZLIB)
        stream.end_of_stream = 1
        stream.flush = UInt16(NO_FLUSH)
        stream.next_in = shuffled
        stream.avail_in = UInt32(chunkBytes)
        stream.next_out = compressed
        stream.avail_out = UInt32(compressedCapacity)
        let status = isal_deflate_stateless(&stream)
        let size = compressedCapacity - Int(stream.avail_out)
        var offset = [hsize_t](repeating: 0, count: rank)
        offset[0] = hsize_t(completeRows)
        if status == COMP_OK && size < chunkBytes {
            try H5.check(H5Dwrite_chunk(dataset.handle.id, H5.defaultList, 0, &offset, size, compressed),
                         "H5Dwrite_chunk", file: fileName, object: object)
        } else {
            // not smaller: stored without either filter (mask bits 0 and 1: shuffle, deflate skipped)
            try H5.check(H5Dwrite_chunk(dataset.handle.id, H5.defaultList, 0b11, &offset, chunkBytes, chunk),
                         "H5Dwrite_chunk", file: fileName, object: object)
        }
    }
}
