/// A substructure (atom bit set) as a hashable value: up to 256 atoms inline (no allocation),
/// the words beyond in an array.
struct SubstructKey: Hashable {
    var w0: UInt64 = 0, w1: UInt64 = 0, w2: UInt64 = 0, w3: UInt64 = 0
    var rest: [UInt64] = []

    init(_ words: UnsafeBufferPointer<UInt64>) {
        let n = words.count
        if n > 0 { w0 = words[0] }
        if n > 1 { w1 = words[1] }
        if n > 2 { w2 = words[2] }
        if n > 3 { w3 = words[3] }
        if n > 4 { rest = Array(words[4...]) }
    }
}
