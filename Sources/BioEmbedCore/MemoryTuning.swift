/// Allocator settings for work that allocates and frees the same multi-megabyte arrays over and
/// over (group connectivity: a few per subject, two subjects at a time).
///
/// glibc returns a freed block at the top of the heap to the kernel once it exceeds the trim
/// threshold, and serves blocks above its (adaptive) mmap threshold with a fresh `mmap`: either
/// way the next allocation of the same size page-faults its memory in again, which measured
/// ≈ 30 % of the system time of a group connectivity run. Fixed thresholds (32 MiB blocks from the
/// heap, 64 MiB kept before trimming) let those buffers be reused. Not a process-wide default:
/// with many threads allocating blocks of all sizes (protein tokenizing with `--jobs 2`) the
/// retained free memory grew with the run (137 → 322 MB peak over 10× more files).
public enum MemoryTuning {
    /// Process-wide from this call on; call it where such work starts.
    public static func reuseLargeBuffers() {
        #if os(Linux)
        _ = glibcMallopt(mTrimThreshold, 64 << 20)
        _ = glibcMallopt(mMmapThreshold, 32 << 20)
        #endif
    }

    /// Returns the free memory of every allocator arena to the system (glibc `malloc_trim`). Worker
    /// threads allocate and free per-item buffers of all sizes in arenas of their own; without
    /// this, a long item stage's resident memory grew with the number of items although its live
    /// heap did not (heaptrack: 80 MB live, 262 MB resident after 8,700 structure files).
    public static func releaseFreeMemory() {
        #if os(Linux)
        _ = glibcMallocTrim(0)
        #endif
    }

    /// glibc tunable applied by the launcher (they are read at process start only). Each thread keeps
    /// up to 7 freed blocks per size class by default; RDKit builds and frees thousands of small
    /// objects per molecule, and past those 7 every free and malloc takes the arena's slow path
    /// (`_int_malloc`/`_int_free`: 15 % of molecule tokenizing). 256 per class took 9 % off the
    /// in-process tokenizer. Only for `bioembed molecule …`: cached blocks pin heap pages that
    /// `malloc_trim` could otherwise return, and a 640-file protein pipeline peaked at 151 MB with
    /// it instead of 99 MB.
    public static let allocatorTunable = "glibc.malloc.tcache_count=256"

    /// The `GLIBC_TUNABLES` value to start with, given the current one: nil when nothing needs to
    /// change (the tunable, or a tcache count the user chose, is already there).
    public static func tunables(adding current: String?) -> String? {
        guard let current, !current.isEmpty else { return allocatorTunable }
        if current.contains("glibc.malloc.tcache_count") { return nil }
        return current + ":" + allocatorTunable
    }

    // <malloc.h> is not part of Swift's Glibc module: its two parameters and the function.
    private static let mTrimThreshold: Int32 = -1
    private static let mMmapThreshold: Int32 = -3
}

#if os(Linux)
@_silgen_name("mallopt")
private func glibcMallopt(_ parameter: Int32, _ value: Int32) -> Int32

@_silgen_name("malloc_trim")
private func glibcMallocTrim(_ pad: Int) -> Int32
#endif
