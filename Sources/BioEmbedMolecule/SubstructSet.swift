/// The set of substructures (atom bit sets) seen so far in one fingerprint. Molecules of up to 64
/// heavy atoms (one word per set, the usual case) use an open-addressing table of words with a
/// multiplicative hash; larger ones a `Set<SubstructKey>`. A set is never empty (it holds its
/// centre atom), so 0 marks a free slot.
struct SubstructSet {
    private var words: [UInt64] = []
    private var used = 0
    private var large = Set<SubstructKey>()
    private let single: Bool

    /// `expected` sets of `wordsPerSet` words each.
    init(wordsPerSet: Int, expected: Int) {
        single = wordsPerSet == 1
        if single {
            var capacity = 16
            while capacity < 2 * expected { capacity *= 2 }
            words = [UInt64](repeating: 0, count: capacity)
        }
    }

    /// Inserts the set in `bits`; true when it was not there yet.
    mutating func insert(_ bits: UnsafeBufferPointer<UInt64>) -> Bool {
        guard single else { return large.insert(SubstructKey(bits)).inserted }
        let value = bits[0]
        if 2 * (used + 1) > words.count { grow() }
        let mask = words.count - 1
        var slot = Int(truncatingIfNeeded: (value &* 0x9E37_79B9_7F4A_7C15) >> 32) & mask
        while true {
            let current = words[slot]
            if current == value { return false }
            if current == 0 {
                words[slot] = value
                used += 1
                return true
            }
            slot = (slot + 1) & mask
        }
    }

    private mutating func grow() {
        let old = words
        words = [UInt64](repeating: 0, count: 2 * old.count)
        used = 0
        for value in old where value != 0 {
            _ = withUnsafeTemporaryAllocation(of: UInt64.self, capacity: 1) { buffer in
                buffer[0] = value
                return insert(UnsafeBufferPointer(buffer))
            }
        }
    }
}
