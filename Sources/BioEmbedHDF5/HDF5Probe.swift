import BioEmbedCore
import Foundation
import Synchronization

/// Reads a file's variable-length data in a child process before this process does.
///
/// libhdf5 1.10.8 (Debian's) copies a variable-length string out of its global heap without a
/// bounds check (`H5HG_read`): a file whose heap object claims more bytes than its collection
/// holds crashes the reading process with SIGSEGV, whatever the caller checks first. So before an
/// existing file is opened, a child process opens it and reads what this process may read through
/// the heap: every attribute and every variable-length string dataset. When the child dies by a
/// signal, the file is refused with `HDF5Error.corruptHeap` and this process never reads it; any
/// other outcome (including an ordinary HDF5 error, which this process then reports itself) lets
/// the open go on.
///
/// The child is `bioembed-hdf5-probe PATH…` from the folder of the running executable (built with
/// it; HDF5 is all it loads, so it starts in about half the time), else the running executable
/// itself with `childArgument PATH…` (a copied binary: the same check, a slower start).
///
/// Off until `install(command:)` (the CLI turns it on; library users and the unit tests read in
/// process). Each file is checked once per process (by device, inode, size and modification
/// time), and files this process committed itself are trusted.
public enum HDF5Probe {
    /// The argument that makes the executable run `readVariableLengthData` on the path after it.
    public static let childArgument = "--internal-hdf5-probe"
    /// The probe program's name (the `bioembed-hdf5-probe` product), looked for next to the executable.
    public static let helperName = "bioembed-hdf5-probe"
    /// Rows of a string dataset read per call in the child (bounds its memory).
    static let rowsPerRead = 65_536
    /// The child's time limit (it ends itself with SIGALRM): a file whose strings take longer to
    /// read is opened without the check rather than refused.
    static let childSeconds: UInt32 = 300

    private struct State {
        /// The child's program and its leading arguments (the paths follow).
        var command: [String]?
        var checked: Set<FileStamp> = []
    }

    private static let state = Mutex(State())

    /// Turns the check on: `command` (program and leading arguments) runs the child.
    public static func install(command: [String]) {
        state.withLock { $0.command = command }
    }

    /// For an executable's `main`, before anything else: when `arguments` (without the program
    /// name) are `childArgument PATH…`, does the child's work on each path and exits; otherwise
    /// turns the check on with the probe program next to this executable as the child, or this
    /// executable where there is none.
    public static func start(_ arguments: [String]) {
        if arguments.count >= 2 && arguments[0] == childArgument {
            for path in arguments.dropFirst() { readVariableLengthData(path) }
            exit(0)
        }
        let own = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? ""
        let helper = URL(fileURLWithPath: own).deletingLastPathComponent().appendingPathComponent(helperName).path
        install(command: !own.isEmpty && access(helper, X_OK) == 0 ? [helper] : ["/proc/self/exe", childArgument])
    }

    /// Refuses `path` when reading its variable-length data crashes a child process.
    static func check(_ path: String) throws(HDF5Error) {
        try check([path])
    }

    /// `check` for several files with one child (one start of the executable, not one per file), in
    /// order: a crash is traced to its file by one child per file. Paths that are missing or not
    /// HDF5 are left to the open that follows (which says so).
    public static func check(_ paths: [String]) throws(HDF5Error) {
        guard let command = state.withLock({ $0.command }) else { return }
        var pending: [(path: String, identity: FileStamp)] = []
        for path in paths {
            guard let identity = FileStamp(path), !state.withLock({ $0.checked.contains(identity) }),
                  !pending.contains(where: { $0.identity == identity }), H5.isHDF5(path) else { continue }
            pending.append((path, identity))
        }
        guard !pending.isEmpty else { return }
        if pending.count == 1 || runChild(command, pending.map(\.path)) != nil {
            for (path, _) in pending {
                if let ending = runChild(command, [path]) {
                    throw HDF5Error.corruptHeap(file: path, detail: "reading its variable-length strings \(ending) in a separate process (libhdf5 does not bound-check a corrupt global heap)")
                }
            }
        }
        state.withLock { state in for (_, identity) in pending { state.checked.insert(identity) } }
    }

    /// Records a file this process wrote (after `commit()`): it is not checked again.
    static func trust(_ path: String) {
        guard let identity = FileStamp(path) else { return }
        state.withLock { _ = $0.checked.insert(identity) }
    }

    /// Runs the child with its output discarded: nil when it exited 0 (or could not be started),
    /// else how it ended (a signal, or a sanitizer's report and exit code).
    private static func runChild(_ command: [String], _ paths: [String]) -> String? {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        let arguments = command + paths
        var pointers: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { for p in pointers { free(p) } }
        // the environment, without the Swift runtime's backtrace of the crash (nobody reads it)
        var environment: [UnsafeMutablePointer<CChar>?] = [strdup("SWIFT_BACKTRACE=enable=no")]
        var entry = environ
        while let variable = entry.pointee {
            if strncmp(variable, "SWIFT_BACKTRACE=", 16) != 0 { environment.append(strdup(variable)) }
            entry += 1
        }
        environment.append(nil)
        defer { for p in environment { free(p) } }
        var pid: pid_t = 0
        guard posix_spawn(&pid, command[0], &actions, nil, &pointers, &environment) == 0 else { return nil }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let signal = status & 0x7f  // WTERMSIG; 0 when the child exited
        if signal == 0 { return status == 0 ? nil : "ended with exit code \((status >> 8) & 0xff)" }
        return signal == 0x7f || signal == SIGALRM ? nil : "crashed libhdf5 (signal \(signal))"
    }

    /// The child's work: opens `path` (without a probe of its own) and reads every attribute and
    /// every variable-length string dataset of every object once. Errors are ignored: only a crash
    /// matters to the parent. A dataset larger than the memory budget of one input is skipped (the
    /// parent refuses to read it), and a dataset stops at its first failed read.
    public static func readVariableLengthData(_ path: String) {
        alarm(childSeconds)
        guard let file = try? HDF5File.open(path, probe: false) else { return }
        defer { file.close() }
        var visited = Set<UInt64>()
        func attributes(_ node: some HDF5Node) {
            for name in (try? node.attributeNames()) ?? [] { _ = try? node.attribute(name) }
        }
        func walk(_ group: HDF5Group) {
            attributes(group)
            for child in (try? group.children()) ?? [] {
                if let address = group.objectAddress(of: child.name), !visited.insert(address).inserted { continue }
                switch child.kind {
                case .group:
                    if let sub = try? group.group(child.name) { walk(sub) }
                case .dataset:
                    guard let dataset = try? group.dataset(child.name) else { continue }
                    attributes(dataset)
                    guard dataset.isVariableLengthString, dataset.fitsMemoryBudget(elementSize: 8) else { continue }
                    let rows = dataset.shape.first ?? 1
                    for start in stride(from: 0, to: rows, by: rowsPerRead) {
                        guard (try? dataset.readStrings(rows: start..<min(rows, start + rowsPerRead))) != nil else { break }
                    }
                case .other:
                    continue
                }
            }
        }
        walk(file.root)
    }
}
