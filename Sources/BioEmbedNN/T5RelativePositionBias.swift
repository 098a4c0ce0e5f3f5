import Foundation

/// T5's bidirectional relative-position buckets and the per-head bias they select.
///
/// bucket(r = key − query): half the buckets for r > 0; |r| < max_exact (= buckets/4) is its own
/// bucket, larger distances are binned logarithmically up to `maxDistance` (float32 log, as HF),
/// everything farther falls in the last bucket. The bias of layer 0 (`relative_attention_bias`
/// `[buckets, heads]`) is shared by every layer of the encoder.
public struct T5RelativePositionBias: Sendable {
    public let buckets: Int
    public let maxDistance: Int
    public let heads: Int
    /// `[buckets, heads]`.
    public let weight: [Float]

    public init(weight: Tensor, maxDistance: Int) {
        buckets = weight.shape[0]
        heads = weight.shape[1]
        self.maxDistance = maxDistance
        self.weight = weight.data
    }

    /// The bucket of relative position `relative` (= key index − query index).
    public static func bucket(_ relative: Int, buckets: Int, maxDistance: Int) -> Int {
        let half = buckets / 2
        var result = relative > 0 ? half : 0
        let n = abs(relative)
        let maxExact = half / 2
        if n < maxExact { return result + n }
        let scaled = logf(Float(n) / Float(maxExact)) / Float(log(Double(maxDistance) / Double(maxExact))) * Float(half - maxExact)
        let large = maxExact + Int(scaled)
        result += min(large, half - 1)
        return result
    }

    /// Bias values `[heads, 2·length − 1]`, entry `h · (2L−1) + (r + L − 1)` for r = −(L−1)…L−1.
    public func table(length: Int) -> [Float] {
        let span = 2 * length - 1
        var out = [Float](repeating: 0, count: heads * max(0, span))
        for offset in 0..<max(0, span) {
            let b = Self.bucket(offset - (length - 1), buckets: buckets, maxDistance: maxDistance)
            for h in 0..<heads { out[h * span + offset] = weight[b * heads + h] }
        }
        return out
    }
}
