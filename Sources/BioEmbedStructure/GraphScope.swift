/// Which residues a chain's residue graphs span.
public enum GraphScope: String, Codable, Sendable, CaseIterable {
    /// Only the chain's own residues; indices are chain-local (docs/layout.md's `/proteins`).
    case chain
    /// Every written chain of the same file (and model), as one complex: a chain item holds the rows
    /// of its own residues, with indices into the complex (its chains' residues concatenated in item
    /// order; the item's `complex_offset` is the index of its first residue).
    case complex
}
