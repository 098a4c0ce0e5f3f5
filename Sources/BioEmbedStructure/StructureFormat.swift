/// The text formats `StructureReader` understands.
public enum StructureFormat: String, Sendable {
    case pdb
    case mmcif

    /// The format implied by a file name (`.pdb`, `.ent`, `.cif`, `.mmcif`, each optionally `.gz`),
    /// or nil when the name says nothing.
    public static func fromName(_ path: String) -> StructureFormat? {
        var name = path.lowercased()
        if name.hasSuffix(".gz") { name.removeLast(3) }
        if name.hasSuffix(".cif") || name.hasSuffix(".mmcif") { return .mmcif }
        if name.hasSuffix(".pdb") || name.hasSuffix(".ent") || name.hasSuffix(".pdb1") { return .pdb }
        return nil
    }
}
