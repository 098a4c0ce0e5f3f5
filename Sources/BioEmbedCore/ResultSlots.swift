import Foundation

/// Results of work run side by side: slot `i` is written by exactly one task, and `values` is read
/// after every task finished (Dispatch's `concurrentPerform`, a group's `wait`). Each slot is
/// written under a lock, so two tasks never touch the storage at once.
public final class ResultSlots<Value: Sendable>: @unchecked Sendable {
    // @unchecked: `storage` is only touched under `lock`.
    private let lock = NSLock()
    private var storage: [Value?]

    public init(count: Int) { storage = Array(repeating: nil, count: count) }

    public func set(_ index: Int, _ value: Value) {
        lock.lock()
        storage[index] = value
        lock.unlock()
    }

    /// Every slot's value, in slot order. - Precondition: every slot was set.
    public var values: [Value] {
        lock.lock()
        defer { lock.unlock() }
        return storage.map { $0! }
    }
}
