/// Entity types for residues that their file leaves unknown (PDB without usable `TER`, mmCIF
/// without `_entity`), as gemmi 0.7.5's `add_entity_types` (polyheur.cpp) decides them, with gemmi's
/// own residue table (`GemmiResidueTable`).
///
/// Per chain with any unknown residue:
/// - the polymer type (`check_polymer_type`) over its unknown or polymer residues: waters and
///   tabulated components without hydrogens (ions) are skipped; a peptide when more than half of
///   the others are peptide-linking (tabulated) or carry a `CA` (untabulated), a nucleic acid
///   likewise with nucleotide-linking residues or a `P`; ATOM records lower the bar by one; a single
///   HETATM residue is no polymer;
/// - then where the polymer ends (`infer_polymer_end`): at the first tabulated water, the first
///   tabulated residue that cannot link once a standard residue was seen, or a standard HETATM
///   residue after the first ATOM one (untabulated names never end it); after the last standard
///   residue, at a numbering jump (< −1 or > 10) or two consecutive residues whose Cα (P for
///   nucleic acids; else a carbon, else the first atom) are ≥ 5 Å (7.5 Å) apart, except that the
///   first two steps with no gap in numbering always continue.
/// Residues up to the end become polymer, the others water or non-polymer. Atoms are matched by
/// name (a Cα whose PDB element is not carbon does not count, as gemmi's `get_ca`; otherwise
/// elements are not kept: "a carbon" is a name starting with C). Cost: O(atoms of the chain).
enum PolymerHeuristics {
    enum PolymerKind { case peptide, nucleic, unknown }

    static let phosphorus = PackedName("P")

    static func atom(_ s: StructureModel, residue r: Int, named name: PackedName) -> Int? {
        for a in s.residueAtomOffsets[r] ..< s.residueAtomOffsets[r + 1] where s.atomNames[a] == name { return a }
        return nil
    }

    static func addEntityTypes(_ s: inout StructureModel) {
        for c in 0 ..< s.chainCount {
            let start = s.chainResidueOffsets[c], end = s.chainResidueOffsets[c + 1]
            guard start < end else { continue }
            var anyUnknown = false
            for r in start ..< end where s.entityTypes[r] == .unknown { anyUnknown = true; break }
            guard anyUnknown else { continue }
            let kind = polymerKind(s, start, end)
            let polymerEnd = kind == .unknown ? start : inferPolymerEnd(s, start, end, kind)
            for r in start ..< end where s.entityTypes[r] == .unknown {
                if r < polymerEnd { s.entityTypes[r] = .polymer }
                else { s.entityTypes[r] = ResidueTables.isWater(s.residueNames[r]) ? .water : .nonPolymer }
            }
        }
    }

    /// gemmi's `check_polymer_type` over residues `start..<end` of one chain.
    static func polymerKind(_ s: StructureModel, _ start: Int, _ end: Int) -> PolymerKind {
        var aa = 0, na = 0, total = 0
        var hasAtomRecord = false
        for r in start ..< end where s.entityTypes[r] == .unknown || s.entityTypes[r] == .polymer {
            if !s.isHetero[r] && !s.isOtherRecord[r] { hasAtomRecord = true }
            if let flags = GemmiResidueTable.flags(s.residueNames[r]) {
                if flags.contains(.water) || flags.contains(.noHydrogens) { continue }
                if flags.contains(.peptideLinking) { aa += 1 }
                if flags.contains(.nucleotideLinking) { na += 1 }
            } else if !s.caIsNotCarbon[r], atom(s, residue: r, named: .ca) != nil {
                aa += 1
            } else if atom(s, residue: r, named: phosphorus) != nil {
                na += 1
            }
            total += 1
        }
        if total == 0 || (total == 1 && !hasAtomRecord) { return .unknown }
        let bonus = hasAtomRecord ? 1 : 0
        if 2 * aa + bonus > total { return .peptide }
        if 2 * na + bonus > total { return .nucleic }
        return .unknown
    }

    /// gemmi's `infer_polymer_end`: the index after the chain's polymer part.
    static func inferPolymerEnd(_ s: StructureModel, _ start: Int, _ end: Int, _ kind: PolymerKind) -> Int {
        var b = start
        var e = end
        // the first ATOM residue (gemmi scans backwards and keeps overwriting)
        var firstAtomRecord = end
        var r = end
        while r > start { r -= 1; if !s.isHetero[r] && !s.isOtherRecord[r] { firstAtomRecord = r } }
        for r in start ..< end {
            guard let flags = GemmiResidueTable.flags(s.residueNames[r]) else { continue }
            if flags.contains(.water) { e = r; break }
            let maybeLinking = (kind == .peptide && flags.contains(.peptideLinking))
                || (kind == .nucleic && flags.contains(.nucleotideLinking))
            if !maybeLinking && b != start { e = r; break }
            let standard = flags.contains(.standard)
            if standard && s.isHetero[r] && r > firstAtomRecord { e = r; break }
            if maybeLinking && standard { b = r }
        }
        if b == e || b + 1 == e { return e }
        let last = min(e, end - 1)
        var it = b
        while it < last {
            let gap = Int(s.residueNumbers[it + 1]) - Int(s.residueNumbers[it])
            if gap < -1 || gap > 10 { return it + 1 }
            if gap == 1 && it - start < 2 { it += 1; continue }
            if !connected(s, it, it + 1, kind) { return it + 1 }
            it += 1
        }
        return e
    }

    /// gemmi's `are_connected2`: Cα–Cα below 5 Å for peptides, P–P below 7.5 Å for nucleic acids
    /// (a residue without that atom offers a carbon or phosphorus, else its first atom).
    static func connected(_ s: StructureModel, _ r1: Int, _ r2: Int, _ kind: PolymerKind) -> Bool {
        let peptide = kind == .peptide
        guard peptide || kind == .nucleic else { return false }
        func anchor(_ r: Int) -> Int? {
            if !(peptide && s.caIsNotCarbon[r]), let a = atom(s, residue: r, named: peptide ? .ca : phosphorus) { return a }
            let lo = s.residueAtomOffsets[r], hi = s.residueAtomOffsets[r + 1]
            guard lo < hi else { return nil }
            let initial: Character = peptide ? "C" : "P"
            for a in lo ..< hi where s.atomNames[a].description.first == initial { return a }
            return lo
        }
        guard let a = anchor(r1), let b = anchor(r2) else { return false }
        let dx = s.x[a] - s.x[b], dy = s.y[a] - s.y[b], dz = s.z[a] - s.z[b]
        let limit = peptide ? 25.0 : 56.25
        return dx * dx + dy * dy + dz * dz < limit
    }
}
