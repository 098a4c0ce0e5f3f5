/// The named trainable tensors of a model in one flat buffer, with a gradient buffer of the same
/// layout: tensor i occupies `offsets[i] ..< offsets[i] + counts[i]` in both.
///
/// One flat buffer keeps the optimizer a single loop and the gradient norm one pass. Shapes are
/// PyTorch's (`[out, in]` for Linear weights).
public final class ParameterSet<S: TrainingScalar>: @unchecked Sendable {
    // @unchecked: owned by one training loop at a time.
    public let names: [String]
    public let shapes: [[Int]]
    public let offsets: [Int]
    public let total: Int
    let index: [String: Int]
    public let values: UnsafeMutablePointer<S>
    public let gradients: UnsafeMutablePointer<S>

    public init(_ spec: [(name: String, shape: [Int])]) {
        names = spec.map(\.name)
        shapes = spec.map(\.shape)
        var offsets: [Int] = [], total = 0
        for entry in spec { offsets.append(total); total += entry.shape.reduce(1, *) }
        self.offsets = offsets
        self.total = total
        index = Dictionary(uniqueKeysWithValues: spec.enumerated().map { ($0.element.name, $0.offset) })
        values = .allocate(capacity: max(total, 1))
        values.initialize(repeating: 0, count: max(total, 1))
        gradients = .allocate(capacity: max(total, 1))
        gradients.initialize(repeating: 0, count: max(total, 1))
    }

    deinit {
        values.deallocate()
        gradients.deallocate()
    }

    public func count(_ i: Int) -> Int { shapes[i].reduce(1, *) }

    /// Offset of tensor `name` (a programming error when absent).
    public func offset(_ name: String) -> Int {
        guard let i = index[name] else { preconditionFailure("ParameterSet: no tensor '\(name)'") }
        return offsets[i]
    }

    public func contains(_ name: String) -> Bool { index[name] != nil }

    /// Values of tensor `name` as an array.
    public func value(_ name: String) -> [S] {
        let i = index[name]!
        return Array(UnsafeBufferPointer(start: values + offsets[i], count: count(i)))
    }

    /// Gradient of tensor `name` as an array.
    public func gradient(_ name: String) -> [S] {
        let i = index[name]!
        return Array(UnsafeBufferPointer(start: gradients + offsets[i], count: count(i)))
    }

    public func zeroGradients() { gradients.update(repeating: 0, count: total) }

    /// Global L2 norm of the gradient (accumulated in Double).
    public func gradientNorm() -> Double {
        var sum = 0.0
        for i in 0..<total { let g = Double(gradients[i]); sum += g * g }
        return sum.squareRoot()
    }
}
