/// Which alternate location of an atom is used when a residue has several records of one name.
public enum AltlocPolicy: String, Codable, Sendable, CaseIterable {
    /// The first record in file order (gemmi / biotite `altloc="first"`; the fixtures' choice).
    case first
    /// The record with the highest occupancy (ties: the first).
    case occupancy
    /// The last record (foldseek's `createdb`, which overwrites while looping over atoms).
    case last
}
