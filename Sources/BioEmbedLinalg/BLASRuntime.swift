import BioEmbedCore
import Foundation

/// Which OpenBLAS kernels run, how many threads they use, and the launcher that picks fast kernels.
///
/// Debian's OpenBLAS 0.3.21 does not recognise recent Xeons and falls back to SSE3 ("Prescott")
/// kernels, 5–7× slower than its AVX-512 ones. The kernels are chosen in the library constructor,
/// before `main`, from `OPENBLAS_CORETYPE`. `ensureFastKernels()` therefore runs first in `main`:
/// when the variable is unset and the CPU has AVX-512 (or AVX2), it sets it and re-executes the
/// program once, so users get the fast path without doing anything. A value the user set is kept.
public enum BLASRuntime {
    /// The kernel family OpenBLAS is using, e.g. "SkylakeX", "Haswell", "Prescott".
    public static var coreName: String { OpenBLASCalls.coreName() }

    /// Threads OpenBLAS uses for one call.
    public static var threads: Int { OpenBLASCalls.threads() }

    /// Caps OpenBLAS threads (from `--threads`, or 1 when items run in parallel).
    public static func setThreads(_ count: Int) { OpenBLASCalls.setThreads(max(1, count)) }

    /// The `OPENBLAS_CORETYPE` for a CPU with these `/proc/cpuinfo` flags, or nil to let OpenBLAS decide.
    public static func recommendedCoreType(cpuFlags: Set<String>) -> String? {
        let avx512 = ["avx512f", "avx512dq", "avx512cd", "avx512bw", "avx512vl"]
        if avx512.allSatisfy(cpuFlags.contains) { return "SkylakeX" }
        if cpuFlags.contains("avx2") && cpuFlags.contains("fma") { return "Haswell" }
        return nil
    }

    /// The flags line of `/proc/cpuinfo` (empty where there is none).
    public static func cpuFlags() -> Set<String> {
        guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else { return [] }
        for line in text.split(separator: "\n") where line.hasPrefix("flags") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            return Set(line[line.index(after: colon)...].split(separator: " ").map(String.init))
        }
        return []
    }

    /// Whether the running command calls BLAS (set once at the start of `main`).
    nonisolated(unsafe) private(set) static var commandUsesBLAS = true

    /// Variable that marks a process as already re-executed (prevents loops).
    static let reexecMarker = "BIOEMBED_BLAS_REEXEC"

    /// Sets `OPENBLAS_CORETYPE` for this CPU (and, with `allocatorTunable`, the allocator tunable
    /// of `MemoryTuning.allocatorTunable`) and re-executes the program when either was missing.
    ///
    /// Call before anything else in `main`. Returns normally when nothing had to change (set already,
    /// or the CPU needs no help and the tunable is there) or in the re-executed process.
    /// `BIOEMBED_NO_BLAS_REEXEC=1` disables it.
    ///
    /// `blasUsed` false (a command without linear algebra, such as `protein tokenize`) skips the
    /// kernel choice, and with it the re-execution (≈ 30 ms of dynamic linking), and `report()`
    /// then says that BLAS is not used instead of warning about its kernels.
    public static func ensureFastKernels(allocatorTunable: Bool = false, blasUsed: Bool = true) {
        let environment = ProcessInfo.processInfo.environment
        commandUsesBLAS = blasUsed
        // OpenBLAS starts its workers when loaded and they spin (sched_yield) for 2²⁸ cycles
        // before sleeping: ≈ 80 ms of a core for a command that never calls BLAS.
        if !blasUsed { OpenBLASCalls.stopThreads() }
        if environment[reexecMarker] != nil || environment["BIOEMBED_NO_BLAS_REEXEC"] == "1" { return }
        var core: String? = nil
        if blasUsed, environment["OPENBLAS_CORETYPE"] == nil, let recommended = recommendedCoreType(cpuFlags: cpuFlags()) {
            // Already fast (a newer OpenBLAS that detects this CPU): nothing to do.
            let name = coreName.lowercased()
            if name == "prescott" || name == "core2" || name == "nehalem" { core = recommended }
        }
        #if os(Linux)
        let tunables = allocatorTunable ? MemoryTuning.tunables(adding: environment["GLIBC_TUNABLES"]) : nil
        #else
        let tunables: String? = nil
        #endif
        guard core != nil || tunables != nil else { return }
        if let core { setenv("OPENBLAS_CORETYPE", core, 1) }
        if let tunables { setenv("GLIBC_TUNABLES", tunables, 1) }
        // Idle OpenBLAS workers spin (sched_yield) for 2²⁸ cycles after each call by default,
        // competing with BioEmbed's own parallel loops for the same cores (a fifth of a training
        // step's CPU); 2¹⁰ cycles lets them sleep at once. A value the user set is kept.
        if environment["OPENBLAS_THREAD_TIMEOUT"] == nil { setenv("OPENBLAS_THREAD_TIMEOUT", "10", 1) }
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
        let n = parallelChunks(count, enabled: enabled)
        guard n > 1 else {
            body(0..<count, 0)
            return
        }
        let previous = threads
        setThreads(1)
        withoutActuallyEscaping(body) { run in
            nonisolated(unsafe) let work = run
            DispatchQueue.concurrentPerform(iterations: n) { c in
                work((c * count / n)..<((c + 1) * count / n), c)
            }
        }
        setThreads(previous)
    }

    /// A line for `--verbose`, plus a warning when slow kernels run on a CPU that has faster ones.
    public static func report() {
        guard commandUsesBLAS else {
            Diagnostics.debug("BLAS: not used by this command (OpenBLAS kernels left as loaded: '\(coreName)')")
            return
        }
        Diagnostics.debug("BLAS: OpenBLAS kernels '\(coreName)', \(threads) thread(s), OPENBLAS_CORETYPE=\(ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"] ?? "unset")")
        if coreName.lowercased() == "prescott", let better = recommendedCoreType(cpuFlags: cpuFlags()) {
            Diagnostics.warning("OpenBLAS is using slow SSE3 kernels on a CPU that supports '\(better)'; set OPENBLAS_CORETYPE=\(better)")
        }
    }
}
