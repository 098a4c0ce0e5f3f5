/// A substructure (atom bit set) as a hashable value: up to 256 atoms inline (no allocation),
/// the words beyond in an array.
struct SubstructKey: Hashable {
    var w0: UInt64 = 0, w1: UInt64 = 0, w2: UInt64 = 0, w3: UInt64 = 0
    var rest: [UInt64] = []

    /// One combine of the inline words mixed together (equality still compares every word): the
    /// sets are hashed a few hundred times per molecule.
    func hash(into hasher: inout Hasher) {
        hasher.combine(w0 ^ (w1 &* 0x9E37_79B9_7F4A_7C15) ^ (w2 &* 0xC2B2_AE3D_27D4_EB4F) ^ (w3 &* 0x1656_67B1_9E37_79F9))
        if !rest.isEmpty { hasher.combine(rest) }
    }

    init(_ words: UnsafeBufferPointer<UInt64>) {
        let n = words.count
        if n > 0 { w0 = words[0] }
        if n > 1 { w1 = words[1] }
        if n > 2 { w2 = words[2] }
        if n > 3 { w3 = words[3] }
        if n > 4 { rest = Array(words[4...]) }
    }
}
