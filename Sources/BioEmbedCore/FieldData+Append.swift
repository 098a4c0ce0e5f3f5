extension FieldData {
    /// An empty value of the given element type.
    public static func empty(_ type: ElementType) -> FieldData {
        switch type {
        case .float32: .float32([])
        case .float64: .float64([])
        case .int32: .int32([])
        case .int64: .int64([])
        case .uint8: .uint8([])
        case .string: .strings([])
        }
    }

    /// Appends `other`, which must have the same element type.
    public mutating func append(contentsOf other: FieldData) {
        switch (self, other) {
        case (.float32(var a), .float32(let b)): self = .float32([]); a.append(contentsOf: b); self = .float32(a)
        case (.float64(var a), .float64(let b)): self = .float64([]); a.append(contentsOf: b); self = .float64(a)
        case (.int32(var a), .int32(let b)): self = .int32([]); a.append(contentsOf: b); self = .int32(a)
        case (.int64(var a), .int64(let b)): self = .int64([]); a.append(contentsOf: b); self = .int64(a)
        case (.uint8(var a), .uint8(let b)): self = .uint8([]); a.append(contentsOf: b); self = .uint8(a)
        case (.strings(var a), .strings(let b)): self = .strings([]); a.append(contentsOf: b); self = .strings(a)
        default: preconditionFailure("FieldData.append: \(type) and \(other.type) differ")
        }
    }
}

extension FieldData {
    /// Removes every value but keeps the storage (a buffer refilled after each flush does not
    /// grow again from nothing, copying and faulting in fresh pages each time).
    public mutating func removeAllKeepingCapacity() {
        switch self {
        case .float32(var a): self = .float32([]); a.removeAll(keepingCapacity: true); self = .float32(a)
        case .float64(var a): self = .float64([]); a.removeAll(keepingCapacity: true); self = .float64(a)
        case .int32(var a): self = .int32([]); a.removeAll(keepingCapacity: true); self = .int32(a)
        case .int64(var a): self = .int64([]); a.removeAll(keepingCapacity: true); self = .int64(a)
        case .uint8(var a): self = .uint8([]); a.removeAll(keepingCapacity: true); self = .uint8(a)
        case .strings(var a): self = .strings([]); a.removeAll(keepingCapacity: true); self = .strings(a)
        }
    }
}
