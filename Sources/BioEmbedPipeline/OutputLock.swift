import BioEmbedCore
import Foundation

/// One run at a time writes into an output folder: a second run would remove the first one's live
/// temporary parts, or replace its results with its own.
///
/// The lock is an exclusive `flock` on `<folder>/.bioembed/locks/<scope>.lock`, held until the
/// process ends (the kernel drops it when a run is killed, so a stale lock is simply taken over;
/// over NFS, Linux maps `flock` to POSIX locks, which work across hosts). The file holds the
/// holder's pid and host, for the message a second run prints. The scope separates what may run
/// side by side: the shards of a SLURM array and the stages of independent branches.
public final class OutputLock: Sendable {
    private let descriptor: Int32
    public let path: String

    /// Takes the lock of `scope` in `folder`, or throws naming the run that holds it.
    public init(folder: String, scope: String) throws(PipelineError) {
        let directory = PathText.joined(folder.isEmpty ? "." : folder, ".bioembed/locks")
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        path = PathText.joined(directory, scope.replacingOccurrences(of: "/", with: "_") + ".lock")
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw PipelineError.unreadable(file: path, reason: "cannot create the output folder's lock: \(String(cString: strerror(errno)))")
        }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            let holder = (FileManager.default.contents(atPath: path).map { String(decoding: $0, as: UTF8.self) } ?? "")
                .trimmingCharacters(in: .whitespacesAndNewlines)
            close(fd)
            throw PipelineError.busy(folder: folder, holder: holder.isEmpty ? "another process" : holder, lock: path)
        }
        var host = [CChar](repeating: 0, count: 256)
        gethostname(&host, host.count - 1)
        let name = String(decoding: host.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        let text = "pid \(getpid()) on host \(name)\n"
        ftruncate(fd, 0)
        _ = text.withCString { pwrite(fd, $0, strlen($0), 0) }
        descriptor = fd
    }

    /// The lock for a per-stage command writing `output`: one per output file.
    public convenience init(forOutput output: String) throws(PipelineError) {
        try self.init(folder: (output as NSString).deletingLastPathComponent, scope: "file-" + (output as NSString).lastPathComponent)
    }

    deinit { close(descriptor) }
}
