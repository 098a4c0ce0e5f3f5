/// The number format of an encoder's matrix products (`--precision`, pipeline key `precision`).
public enum Precision: String, Sendable, Codable, CaseIterable {
    /// float32 everywhere (default; the parity tests' outputs).
    case fp32
    /// Linear-layer weights kept as bfloat16 and their GEMMs run in bfloat16 with float32
    /// accumulation (oneDNN, on CPUs with AVX-512 BF16 or AMX); norms, softmax, attention and
    /// activations stay float32. Elsewhere the encoder runs in float32 and says so.
    case bf16
}
