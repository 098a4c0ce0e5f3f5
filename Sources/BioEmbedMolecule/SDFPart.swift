/// A run of whole records of a plain SDF file: its bytes, the file-wide index of its first record
/// and the line its bytes start on (see `SDFReader.parts(path:recordsPerPart:)`).
public struct SDFPart: Sendable, Equatable {
    public var bytes: Range<Int>
    public var firstRecord: Int
    public var firstLine: Int

    public init(bytes: Range<Int>, firstRecord: Int, firstLine: Int) {
        self.bytes = bytes
        self.firstRecord = firstRecord
        self.firstLine = firstLine
    }
}
