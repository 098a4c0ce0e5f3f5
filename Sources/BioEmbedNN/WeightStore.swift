import BioEmbedLinalg

/// The weights a model takes from one safetensors file, checked name by name.
///
/// `take(name, shape)` returns the tensor and records it as used; a missing tensor or a wrong
/// shape is an error naming the tensor, the expected and the found shape. `finish(ignoring:)`
/// reports tensors nobody took (except those whose names start with an ignored prefix, e.g. a
/// decoder the encoder does not need), so weights of another model or size fail loudly.
public final class WeightStore {
    public let file: SafeTensors
    private var used: Set<String> = []
    /// The format Linear layers keep their weights in and multiply with (`Precision.bf16` only where
    /// `BFloat16.support` is usable; the stage decides).
    public var gemmPrecision: Precision = .fp32

    public init(_ file: SafeTensors) { self.file = file }

    public convenience init(path: String, gemmPrecision: Precision = .fp32) throws(NNError) {
        self.init(try SafeTensors(path: path))
        self.gemmPrecision = gemmPrecision
    }

    /// Tensor `name`, required to have `shape`.
    public func take(_ name: String, _ shape: [Int]) throws(NNError) -> Tensor {
        guard let entry = file.entries[name] else { throw NNError.missingTensor(file: file.path, name: name, expectedShape: shape) }
        guard entry.shape == shape else { throw NNError.tensorShape(file: file.path, name: name, expected: shape, found: entry.shape) }
        used.insert(name)
        return try file.tensor(name)
    }

    /// Tensor `name` if present (shape checked), nil otherwise.
    public func takeIfPresent(_ name: String, _ shape: [Int]) throws(NNError) -> Tensor? {
        file.entries[name] == nil ? nil : try take(name, shape)
    }

    public func contains(_ name: String) -> Bool { file.entries[name] != nil }

    /// Shape of tensor `name` as stored, nil if absent.
    public func shape(of name: String) -> [Int]? { file.entries[name]?.shape }

    /// Marks tensors as known but unused (buffers recomputed from the config, tied copies).
    public func markUsed(_ names: [String]) { for name in names where file.entries[name] != nil { used.insert(name) } }

    /// Throws when tensors remain that were neither taken nor match an ignored prefix/suffix.
    public func finish(ignoringPrefixes prefixes: [String] = [], suffixes: [String] = []) throws(NNError) {
        let extra = file.names.filter { name in
            !used.contains(name) && !prefixes.contains(where: { name.hasPrefix($0) }) && !suffixes.contains(where: { name.hasSuffix($0) })
        }
        if !extra.isEmpty { throw NNError.unexpectedTensors(file: file.path, names: extra) }
    }
}
