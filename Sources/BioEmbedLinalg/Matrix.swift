/// A dense row-major matrix of `Float` or `Double`.
///
/// Storage is a Swift array (copy-on-write). Element `(i, j)` is `storage[i * columns + j]`.
public struct Matrix<Scalar: BLASScalar>: Sendable, Equatable {
    public let rows: Int
    public let columns: Int
    public var storage: [Scalar]

    @inlinable
    public init(rows: Int, columns: Int, storage: [Scalar]) {
        precondition(storage.count == rows * columns, "Matrix: \(storage.count) values for \(rows)×\(columns)")
        self.rows = rows
        self.columns = columns
        self.storage = storage
    }

    /// A matrix with every entry `value`.
    @inlinable
    public init(rows: Int, columns: Int, repeating value: Scalar) {
        self.init(rows: rows, columns: columns, storage: [Scalar](repeating: value, count: rows * columns))
    }

    /// A zero matrix (filled with memset: all-zero bits are +0.0 in IEEE 754).
    @inlinable
    public init(rows: Int, columns: Int) {
        let count = rows * columns
        self.init(rows: rows, columns: columns, storage: [Scalar](unsafeUninitializedCapacity: count) { buffer, initialized in
            if let base = buffer.baseAddress { UnsafeMutableRawPointer(base).initializeMemory(as: UInt8.self, repeating: 0, count: count * MemoryLayout<Scalar>.stride) }
            initialized = count
        })
    }

    /// A matrix whose storage `fill` writes completely (no zeroing first).
    @inlinable
    public init(rows: Int, columns: Int, uninitializedFill fill: (UnsafeMutableBufferPointer<Scalar>) throws -> Void) rethrows {
        let count = rows * columns
        self.init(rows: rows, columns: columns, storage: try [Scalar](unsafeUninitializedCapacity: count) { buffer, initialized in
            try fill(buffer)
            initialized = count
        })
    }

    public static func identity(_ n: Int) -> Matrix {
        var m = Matrix(rows: n, columns: n)
        for i in 0..<n { m.storage[i * n + i] = 1 }
        return m
    }

    @inlinable
    public subscript(row: Int, column: Int) -> Scalar {
        get { storage[row * columns + column] }
        set { storage[row * columns + column] = newValue }
    }

    public var transposed: Matrix {
        var t = Matrix(rows: columns, columns: rows)
        storage.withUnsafeBufferPointer { src in
            t.storage.withUnsafeMutableBufferPointer { dst in
                for i in 0..<rows {
                    for j in 0..<columns { dst[j * rows + i] = src[i * columns + j] }
                }
            }
        }
        return t
    }
}
