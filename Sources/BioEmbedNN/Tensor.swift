/// A float32 tensor over one contiguous row-major buffer.
///
/// Shapes follow PyTorch: a Linear weight is `[out, in]`. The storage is a plain `[Float]`, so a
/// tensor is a value (copy on write) and safe to share across threads read-only.
public struct Tensor: Sendable, Equatable {
    public let shape: [Int]
    public var data: [Float]

    public init(shape: [Int], data: [Float]) {
        precondition(shape.reduce(1, *) == data.count, "Tensor: \(data.count) values for shape \(shape)")
        self.shape = shape
        self.data = data
    }

    public init(zeros shape: [Int]) {
        self.shape = shape
        data = [Float](repeating: 0, count: shape.reduce(1, *))
    }

    /// Number of elements.
    public var count: Int { data.count }
}
