/// Scratch buffers reused across layers and calls: `buffer(i, count)` returns slot i with room
/// for at least `count` floats, growing (never shrinking) on demand. Not thread-safe: one per
/// forward pass.
public final class Workspace {
    private var slots: [UnsafeMutablePointer<Float>] = []
    private var capacities: [Int] = []

    public init() {}

    deinit { for slot in slots { slot.deallocate() } }

    public func buffer(_ index: Int, _ count: Int) -> UnsafeMutablePointer<Float> {
        while slots.count <= index {
            slots.append(.allocate(capacity: 1))
            capacities.append(1)
        }
        if capacities[index] < count {
            slots[index].deallocate()
            slots[index] = .allocate(capacity: count)
            capacities[index] = count
        }
        return slots[index]
    }
}
