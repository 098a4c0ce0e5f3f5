/// An append-only buffer of trivial values without `Array`'s per-append uniqueness and capacity
/// calls, for hot loops that collect an unknown number of values (residue-graph edges).
/// Non-copyable: one owner, freed by `deinit`. `array` copies it out.
struct GrowableBuffer<Element: BitwiseCopyable>: ~Copyable {
    private var base: UnsafeMutablePointer<Element>
    private var capacity: Int
    private(set) var count = 0

    init(capacity requested: Int = 256) {
        capacity = max(requested, 16)
        base = .allocate(capacity: capacity)
    }

    deinit { base.deallocate() }

    @inline(__always) mutating func append(_ value: Element) {
        if count == capacity { grow(to: 2 * capacity) }
        base[count] = value
        count &+= 1
    }

    private mutating func grow(to newCapacity: Int) {
        let grown = UnsafeMutablePointer<Element>.allocate(capacity: newCapacity)
        grown.update(from: base, count: count)
        base.deallocate()
        base = grown
        capacity = newCapacity
    }

    var array: [Element] { Array(UnsafeBufferPointer(start: base, count: count)) }
}
