/// Activation buffers of one training step, handed out in call order and reused by the next step.
///
/// `reset()` starts a step; `take(count)` returns the next slot (grown on demand, never shrunk),
/// so a step with the same shapes as the previous one allocates nothing. Not thread-safe.
final class TrainingArena<S: TrainingScalar> {
    private var slots: [UnsafeMutablePointer<S>] = []
    private var capacities: [Int] = []
    private var cursor = 0
    /// Whether kernels may split per-segment work across threads (see `Backprop.parallel`).
    var parallel = false

    init() {}

    deinit { for slot in slots { slot.deallocate() } }

    func reset() { cursor = 0 }

    /// The next buffer with room for `count` values; zero-filled when `zeroed`.
    func take(_ count: Int, zeroed: Bool = false) -> UnsafeMutablePointer<S> {
        let size = max(count, 1)
        if cursor == slots.count {
            slots.append(.allocate(capacity: size))
            capacities.append(size)
        } else if capacities[cursor] < size {
            slots[cursor].deallocate()
            slots[cursor] = .allocate(capacity: size)
            capacities[cursor] = size
        }
        let buffer = slots[cursor]
        cursor += 1
        if zeroed { buffer.initialize(repeating: 0, count: size) }
        return buffer
    }
}
