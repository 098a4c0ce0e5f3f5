/// The E3FP fingerprint of one conformer plus the per-atom, per-level shell table 3D-MolT5 uses.
public struct E3FPResult: Sendable, Equatable {
    /// Sorted folded on-bits (0..<bits) of the fingerprint at the last level (levels 0…L together).
    public var bits: [Int32]
    /// `[atomCount * (level + 1)]` row-major: signed 32-bit shell identifier of atom `i` at level
    /// `l`, after duplicate shells are re-pointed; 0 where there is no shell (H atoms, levels not run).
    public var identifiers: [Int64]
    /// Same layout: the folded bit of that identifier, or -1.
    public var tokens: [Int32]
    /// Levels that ran (4 = levels 0–3).
    public var levelsRun: Int
    /// Duplicate shells re-pointed to an equal-atom-set shell whose bit is on.
    public var remapped: Int
    /// Duplicate shells for which no such shell exists.
    public var unmerged: Int
}
