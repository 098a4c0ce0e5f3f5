import BioEmbedCore
import Foundation
import Synchronization

/// Which OpenBLAS kernels run, how many threads they use, and the start-up that makes them fast.
///
/// OpenBLAS picks its kernels and reads its environment in the library constructor, before
/// `main`. `start(_:)` runs first in `main`, once the command line is parsed and the command has
/// said what it needs (`StartupNeeds`):
/// - idle BLAS workers must sleep instead of spinning for 2²⁸ cycles after each call (they compete
///   with BioEmbed's own parallel loops for the same cores): `OPENBLAS_THREAD_TIMEOUT` is set and
///   OpenBLAS re-reads it in process, on every CPU;
/// - kernels slower than the CPU allows (`BLASKernelCheck`) are replaced by setting
///   `OPENBLAS_CORETYPE` and re-executing the program once (the only way to choose them).
/// A value the user set for either variable is kept.
public enum BLASRuntime {
    /// The kernel family OpenBLAS is using, e.g. "Cooperlake", "Zen", "Haswell", "Prescott".
    public static var coreName: String { OpenBLASCalls.coreName() }

    /// Threads OpenBLAS uses for one call.
    public static var threads: Int { OpenBLASCalls.threads() }

    /// Caps OpenBLAS threads (from `--threads`, or 1 when items run in parallel).
    public static func setThreads(_ count: Int) { OpenBLASCalls.setThreads(max(1, count)) }

    /// The kernels in use compared with this CPU.
    public static var kernelCheck: BLASKernelCheck { BLASKernelCheck(kernel: coreName, cpuFlags: cpuFlags()) }

    /// The flags line of `/proc/cpuinfo` (empty where there is none).
    public static func cpuFlags() -> Set<String> {
        guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else { return [] }
        for line in text.split(separator: "\n") where line.hasPrefix("flags") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            return Set(line[line.index(after: colon)...].split(separator: " ").map(String.init))
        }
        return []
    }

    /// `OPENBLAS_THREAD_TIMEOUT` when the user set none: idle workers spin for 2¹⁰ cycles, then
    /// sleep (OpenBLAS's default is 2²⁸ cycles, ≈ 0.1 s of a core after every call).
    public static let idleThreadTimeout = 10

    /// What the running command declared (set once, at the start of `main`).
    private static let declaredNeeds = Mutex<StartupNeeds>(.blas)

    /// Variable that marks a process as already re-executed (prevents loops).
    static let reexecMarker = "BIOEMBED_BLAS_REEXEC"

    /// Prepares the process for a command with these needs. Call first in `main`, after parsing.
    ///
    /// Returns normally when nothing had to change, or in the re-executed process; re-executes
    /// (`execv`) when the kernels are slow for this CPU or the allocator tunable is missing.
    /// `BIOEMBED_NO_BLAS_REEXEC=1` disables the re-execution (the thread timeout is still set).
    public static func start(_ needs: StartupNeeds) {
        declaredNeeds.withLock { $0 = needs }
        let environment = ProcessInfo.processInfo.environment
        // OpenBLAS starts its workers when loaded, and again whenever its pool restarts (a threaded
        // call, or a change of its thread count: every item stage sets one thread per item and
        // restores the count); each start spins a core for 2²⁸ cycles (≈ 0.1 s) before sleeping,
        // also in a command that never calls BLAS. The workers read the timeout when they start, so
        // the running ones are stopped: the next start reads the short one.
        if environment["OPENBLAS_THREAD_TIMEOUT"] == nil {
            setenv("OPENBLAS_THREAD_TIMEOUT", String(idleThreadTimeout), 1)
            OpenBLASCalls.rereadEnvironment()
        }
        OpenBLASCalls.stopThreads()
        guard needs.contains(.blas) else {
            reexecuteIfNeeded(coreType: nil, allocator: needs.contains(.smallObjectAllocator), environment: environment)
            return
        }
        let check = kernelCheck
        let coreType = environment["OPENBLAS_CORETYPE"] == nil && check.isSlow ? check.recommendedCoreType : nil
        reexecuteIfNeeded(coreType: coreType, allocator: needs.contains(.smallObjectAllocator), environment: environment)
    }

    private static func reexecuteIfNeeded(coreType: String?, allocator: Bool, environment: [String: String]) {
        if environment[reexecMarker] != nil || environment["BIOEMBED_NO_BLAS_REEXEC"] == "1" { return }
        #if os(Linux)
        let tunables = allocator ? MemoryTuning.tunables(adding: environment["GLIBC_TUNABLES"]) : nil
        #else
        let tunables: String? = nil
        #endif
        guard coreType != nil || tunables != nil else { return }
        if let coreType { setenv("OPENBLAS_CORETYPE", coreType, 1) }
        if let tunables { setenv("GLIBC_TUNABLES", tunables, 1) }
        setenv(reexecMarker, "1", 1)
        execv("/proc/self/exe", CommandLine.unsafeArgv)
        // execv only returns on failure: carry on as we are.
        unsetenv(reexecMarker)
    }

    /// Runs `body(range, chunk)` over `count` independent items split into one contiguous chunk per
    /// BLAS thread, side by side, with OpenBLAS single-threaded meanwhile: many mid-sized BLAS calls
    /// (one per subject, segment or head) run faster next to each other than each split across
    /// threads, and no BLAS worker spins while the callers' own loops run. `chunk` indexes
    /// per-thread scratch (`parallelChunks(count)` of them). Callers write disjoint outputs per item,
    /// so results do not depend on the chunking. Changes OpenBLAS's process-wide thread count
    /// meanwhile: for one caller at a time (`enabled` false runs serially).
    public static func parallelChunks(_ count: Int, enabled: Bool = true) -> Int { enabled ? max(1, min(threads, count)) : 1 }

    public static func parallel(_ count: Int, enabled: Bool = true, _ body: (Range<Int>, Int) -> Void) {
        parallel(parts: split(count, parts: parallelChunks(count, enabled: enabled)), body)
    }

    /// `parallel` over the caller's own contiguous parts (e.g. balanced by cost), one per thread.
    public static func parallel(parts: [Range<Int>], _ body: (Range<Int>, Int) -> Void) {
        guard parts.count > 1 else {
            if let part = parts.first { body(part, 0) }
            return
        }
        onWorkers(parts.count) { c in body(parts[c], c) }
    }

    /// `body(part, index)` for each of `parts` (independent), taken in turn by up to `threads`
    /// workers with OpenBLAS single-threaded meanwhile: a core that runs slower (another process on
    /// it, a lower clock) takes fewer parts instead of holding the others up at the end. `index`
    /// indexes per-part scratch; callers that combine per-part results in index order get the same
    /// numbers for any thread count.
    public static func parallel(dynamic parts: [Range<Int>], _ body: (Range<Int>, Int) -> Void) {
        let workers = min(threads, parts.count)
        guard workers > 1 else {
            for (index, part) in parts.enumerated() { body(part, index) }
            return
        }
        let next = Atomic<Int>(0)
        onWorkers(workers) { _ in
            while true {
                let index = next.wrappingAdd(1, ordering: .relaxed).oldValue
                guard index < parts.count else { break }
                body(parts[index], index)
            }
        }
    }

    /// `work(worker)` for `workers` workers side by side, OpenBLAS single-threaded meanwhile.
    private static func onWorkers(_ workers: Int, _ work: (Int) -> Void) {
        let previous = threads
        setThreads(1)
        withoutActuallyEscaping(work) { run in
            nonisolated(unsafe) let run = run
            DispatchQueue.concurrentPerform(iterations: workers) { run($0) }
        }
        setThreads(previous)
    }

    /// `count` items cut into at most `parts` near-equal contiguous ranges, none empty.
    public static func split(_ count: Int, parts: Int) -> [Range<Int>] {
        let n = max(1, min(parts, count))
        return (0..<n).map { c in (c * count / n)..<((c + 1) * count / n) }
    }

    /// A line for `--verbose`, plus a warning when the kernels are slow for this CPU.
    public static func report() {
        let timeout = OpenBLASCalls.threadTimeout()
        let idle = timeout > 0 ? "idle threads sleep after 2^\(min(max(timeout, 4), 30)) cycles" : "idle threads spin 2^28 cycles"
        guard declaredNeeds.withLock({ $0 }).contains(.blas) else {
            Diagnostics.debug("BLAS: not used by this command (OpenBLAS kernels left as loaded: '\(coreName)'; "
                + "OPENBLAS_THREAD_TIMEOUT=\(timeout > 0 ? String(timeout) : "unset"): \(idle))")
            return
        }
        let check = kernelCheck
        Diagnostics.debug(
            "BLAS: OpenBLAS kernels '\(check.kernel)' (\(check.kernelTier)) on a CPU with \(check.cpuTier), \(threads) thread(s), "
                + "OPENBLAS_CORETYPE=\(ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"] ?? "unset"), "
                + "OPENBLAS_THREAD_TIMEOUT=\(timeout > 0 ? String(timeout) : "unset") (\(idle))")
        if check.isSlow {
            let advice = check.recommendedCoreType.map { "; unset OPENBLAS_CORETYPE or set it to \($0)" } ?? ""
            Diagnostics.warning("OpenBLAS is using slow \(check.kernelTier) kernels ('\(check.kernel)') on a CPU with \(check.cpuTier)\(advice)")
        }
    }
}
