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
