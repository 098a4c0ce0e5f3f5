import Foundation

/// Hands out item indices `0..<count` to workers in order, at most `window` ahead of the consumer,
/// and gives their results back to the consumer in index order (`take`). Results are held only
/// until taken, so memory is bounded by the window, not by the number of items. `cancel` stops
/// handing out work (the consumer failed) and wakes everyone.
final class OrderedPipeline<Value: Sendable>: @unchecked Sendable {
    // @unchecked: every stored property is touched only with `condition` locked.
    private let condition = NSCondition()
    private var results: [Int: Value] = [:]
    private var next = 0
    private var consumed = 0
    private var cancelled = false
    private let count: Int
    private let window: Int

    init(count: Int, window: Int) {
        self.count = count
        self.window = max(1, window)
    }

    /// The next index to work on; nil when every index was handed out or the run was cancelled.
    func claim() -> Int? {
        condition.lock()
        defer { condition.unlock() }
        while !cancelled && next < count && next >= consumed + window { condition.wait() }
        guard !cancelled, next < count else { return nil }
        next += 1
        return next - 1
    }

    /// Stores the result of `index`.
    func put(_ index: Int, _ value: Value) {
        condition.lock()
        results[index] = value
        condition.broadcast()
        condition.unlock()
    }

    /// Waits for the result of `index` (the consumer calls this for 0, 1, 2, … in turn).
    func take(_ index: Int) -> Value {
        condition.lock()
        defer { condition.unlock() }
        while results[index] == nil { condition.wait() }
        consumed = index + 1
        condition.broadcast()
        return results.removeValue(forKey: index)!
    }

    /// No more work is handed out; workers finish the item they hold.
    func cancel() {
        condition.lock()
        cancelled = true
        condition.broadcast()
        condition.unlock()
    }
}
