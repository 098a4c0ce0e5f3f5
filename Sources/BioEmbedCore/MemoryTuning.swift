/// Allocator settings for a process that repeatedly allocates and frees multi-megabyte arrays
/// (one subject's series, one chain's features, one batch's activations).
///
/// glibc returns a freed block at the top of the heap to the kernel once it exceeds the trim
/// threshold, and serves blocks above its (adaptive) mmap threshold with a fresh `mmap`: either
/// way the next allocation of the same size page-faults its memory in again, which measured
/// ≈ 30 % of the system time of a group connectivity run. Fixed thresholds (32 MiB blocks from the
/// heap, 64 MiB kept before trimming) let those buffers be reused; peak memory is unchanged.
public enum MemoryTuning {
    public static func applyDefaults() {
        #if os(Linux)
        _ = glibcMallopt(mTrimThreshold, 64 << 20)
        _ = glibcMallopt(mMmapThreshold, 32 << 20)
        #endif
    }

    // <malloc.h> is not part of Swift's Glibc module: its two parameters and the function.
    private static let mTrimThreshold: Int32 = -1
    private static let mMmapThreshold: Int32 = -3
}

#if os(Linux)
@_silgen_name("mallopt")
private func glibcMallopt(_ parameter: Int32, _ value: Int32) -> Int32
#endif
