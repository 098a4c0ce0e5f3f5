import Foundation

/// ESM-2 rotary position embedding (half-split, not interleaved), applied in place to Q or K.
///
/// θ_i = base^(−2i/d), i < d/2; for position p: x′ = x ⊙ cos(pθ) + rot(x) ⊙ sin(pθ) with
/// rot(x) = [−x_{d/2..d−1}, x_{0..d/2−1}], per head. The angles are formed in float32 as PyTorch
/// does. Tables are built once per length: O(length · d/2).
public struct RotaryEmbedding: Sendable {
    public let headDim: Int
    public let inverseFrequencies: [Float]

    public init(headDim: Int, base: Float) {
        self.headDim = headDim
        let half = headDim / 2
        inverseFrequencies = (0..<half).map { i in 1 / powf(base, Float(2 * i) / Float(headDim)) }
    }

    /// cos and sin tables `[length, d/2]`.
    public func tables(length: Int) -> (cos: [Float], sin: [Float]) {
        let half = headDim / 2
        var c = [Float](repeating: 0, count: length * half)
        var s = c
        for p in 0..<length {
            for i in 0..<half {
                let angle = Float(p) * inverseFrequencies[i]
                c[p * half + i] = cosf(angle)
                s[p * half + i] = sinf(angle)
            }
        }
        return (c, s)
    }

    /// Rotates rows 0..<length of x (`[length, heads·d]`, stride ld), row r at position r.
    public func apply(_ x: UnsafeMutablePointer<Float>, length: Int, heads: Int, ld: Int, cos: UnsafePointer<Float>, sin: UnsafePointer<Float>) {
        let half = headDim / 2
        for p in 0..<length {
            let c = cos + p * half
            let s = sin + p * half
            for h in 0..<heads {
                let v = x + p * ld + h * headDim
                for i in 0..<half {
                    let a = v[i], b = v[i + half]
                    v[i] = a * c[i] - b * s[i]
                    v[i + half] = b * c[i] + a * s[i]
                }
            }
        }
    }
}
