import Foundation

/// How much memory one input may claim. Sizes read from files (headers, gzip trailers, dataset
/// shapes) are checked against this before anything is allocated for them, so a hostile or
/// corrupt file fails as an item with a message instead of aborting the process.
public enum MemoryBudget {
    /// Bytes the process may use: the smaller of physical memory and the address-space limit
    /// (`ulimit -v`).
    public static let total: Int = {
        let pages = sysconf(Int32(_SC_PHYS_PAGES)), pageSize = sysconf(Int32(_SC_PAGESIZE))
        var physical = pages > 0 && pageSize > 0 ? pages * pageSize : 1 << 33
        var limit = rlimit()
        if getrlimit(RLIMIT_AS_VALUE, &limit) == 0, limit.rlim_cur < UInt(Int.max) {
            physical = min(physical, Int(limit.rlim_cur))
        }
        return physical
    }()

    /// The largest single input loaded whole (a structure file's decompressed text, one NIfTI
    /// volume, one dataset read by `inspect`): an eighth of `total`, so a few of them in flight
    /// (`--jobs`) and their parsed forms still fit.
    public static var perInput: Int { total / 8 }

    /// Whether an array of `extents` (multiplied) elements of `elementSize` bytes fits `perInput`
    /// (false also when the product overflows).
    public static func fits(_ extents: [Int], elementSize: Int) -> Bool {
        var bytes = elementSize
        for extent in extents {
            guard extent >= 0 else { return false }
            let (product, overflow) = bytes.multipliedReportingOverflow(by: extent)
            guard !overflow, product <= perInput else { return false }
            bytes = product
        }
        return true
    }

    /// `bytes` as a short human-readable size (for messages).
    public static func describe(_ bytes: Int) -> String {
        let units = ["bytes", "KiB", "MiB", "GiB", "TiB", "PiB"]
        var value = Double(bytes), unit = 0
        while value >= 1024, unit < units.count - 1 { value /= 1024; unit += 1 }
        return unit == 0 ? "\(bytes) bytes" : String(format: "%.1f %@", value, units[unit])
    }
}

#if os(Linux)
private let RLIMIT_AS_VALUE = __rlimit_resource_t(RLIMIT_AS.rawValue)
#else
private let RLIMIT_AS_VALUE = RLIMIT_AS
#endif
