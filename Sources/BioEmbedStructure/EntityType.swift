/// Polymer / non-polymer classification of a residue (mmCIF `_entity.type`, PDB `TER` and
/// gemmi's heuristics for files without either).
public enum EntityType: UInt8, Sendable {
    case unknown = 0
    case polymer = 1
    case nonPolymer = 2
    case water = 3
    case branched = 4
}
