import Foundation

/// What `stat` says of a file that changes when its contents are replaced or rewritten: device,
/// inode, size and modification time (ns). Used to remember per-file work (hashes, checks) and
/// to notice when it must be done again.
public struct FileStamp: Hashable, Sendable {
    public var device: UInt64
    public var inode: UInt64
    public var size: Int64
    public var seconds: Int64
    public var nanoseconds: Int64

    /// The stamp of `path` (following links), or nil when it cannot be read.
    public init?(_ path: String) {
        var status = stat()
        guard stat(path, &status) == 0 else { return nil }
        device = UInt64(status.st_dev)
        inode = UInt64(status.st_ino)
        size = Int64(status.st_size)
        seconds = Int64(status.st_mtim.tv_sec)
        nanoseconds = Int64(status.st_mtim.tv_nsec)
    }
}
