/// Entity types for residues that their file leaves unknown (PDB without usable `TER`, mmCIF
/// without `_entity`), following gemmi's `add_entity_types` (polyheur.cpp) as closely as a
/// reader without gemmi's full component dictionary can.
///
/// Per chain with any unknown residue: decide whether the chain is a peptide (more than half of
/// the candidate residues are amino acids or carry a `CA`; ATOM records weaken the bar by one);
/// if so, the polymer runs from the start to the first water, the first non-linking residue after
/// a standard residue, a standard HETATM residue after the first ATOM residue, a numbering jump
/// (< −1 or > 10), or two consecutive residues whose Cα atoms are ≥ 5 Å apart. Unknown residues in
/// that run become polymer, the others water or non-polymer. Residue names outside the amino-acid,
/// nucleotide and water tables count as non-linking components unless they carry N, CA and C.
/// Cost: O(atoms of the chain).
enum PolymerHeuristics {
    enum Kind { case aminoAcid, nucleotide, water, other, unknownName }

    static func kind(_ s: StructureModel, residue r: Int) -> Kind {
        let name = s.residueNames[r]
        if ResidueTables.isAminoAcid(name) { return .aminoAcid }
        if ResidueTables.isWater(name) { return .water }
        if ResidueTables.isNucleotide(name) { return .nucleotide }
        var hasN = false, hasCA = false, hasC = false
        for a in s.residueAtomOffsets[r] ..< s.residueAtomOffsets[r + 1] {
            let n = s.atomNames[a]
            if n == .n { hasN = true } else if n == .ca { hasCA = true } else if n == .c { hasC = true }
        }
        return hasN && hasCA && hasC ? .unknownName : .other
    }

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
            var polymerEnd = start
            if isPeptide(s, start, end) { polymerEnd = inferPolymerEnd(s, start, end) }
            for r in start ..< end where s.entityTypes[r] == .unknown {
                if r < polymerEnd { s.entityTypes[r] = .polymer }
                else { s.entityTypes[r] = ResidueTables.isWater(s.residueNames[r]) ? .water : .nonPolymer }
            }
        }
    }

    static func isPeptide(_ s: StructureModel, _ start: Int, _ end: Int) -> Bool {
        var aa = 0, total = 0
        var hasAtomRecord = false
        for r in start ..< end where s.entityTypes[r] == .unknown || s.entityTypes[r] == .polymer {
            if !s.isHetero[r] { hasAtomRecord = true }
            switch kind(s, residue: r) {
            case .water: continue
            case .aminoAcid: aa += 1
            case .nucleotide: break
            case .other:
                // single-atom components (ions) carry no hydrogens and are skipped, as in gemmi
                if s.residueAtomOffsets[r + 1] - s.residueAtomOffsets[r] <= 1 { continue }
            case .unknownName: aa += 1
            }
            total += 1
        }
        if total == 0 || (total == 1 && !hasAtomRecord) { return false }
        return 2 * aa + (hasAtomRecord ? 1 : 0) > total
    }

    static func inferPolymerEnd(_ s: StructureModel, _ start: Int, _ end: Int) -> Int {
        var b = start
        var e = end
        // gemmi scans backwards and keeps overwriting, which leaves the *first* ATOM residue.
        var lastA = end
        var r = end
        while r > start { r -= 1; if !s.isHetero[r] { lastA = r } }
        for r in start ..< end {
            let k = kind(s, residue: r)
            if k == .unknownName { continue }
            if k == .water { e = r; break }
            let linking = k == .aminoAcid
            if !linking && b != start { e = r; break }
            let standard = ResidueTables.isStandardAminoAcid(s.residueNames[r])
            if standard && s.isHetero[r] && r > lastA { e = r; break }
            if linking && standard { b = r }
        }
        if b == e || b + 1 == e { return e }
        let last = min(e, end - 1)
        var it = b
        while it < last {
            let gap = Int(s.residueNumbers[it + 1]) - Int(s.residueNumbers[it])
            if gap < -1 || gap > 10 { return it + 1 }
            if gap == 1 && it - start < 2 { it += 1; continue }
            if !connected(s, it, it + 1) { return it + 1 }
            it += 1
        }
        return e
    }

    /// Cα–Cα (or first-atom) distance below 5 Å.
    static func connected(_ s: StructureModel, _ r1: Int, _ r2: Int) -> Bool {
        func anchor(_ r: Int) -> Int? {
            if let a = atom(s, residue: r, named: .ca) { return a }
            let lo = s.residueAtomOffsets[r], hi = s.residueAtomOffsets[r + 1]
            guard lo < hi else { return nil }
            for a in lo ..< hi where s.atomNames[a].description.first == "C" { return a }
            return lo
        }
        guard let a = anchor(r1), let b = anchor(r2) else { return false }
        let dx = s.x[a] - s.x[b], dy = s.y[a] - s.y[b], dz = s.z[a] - s.z[b]
        return dx * dx + dy * dy + dz * dz < 25
    }
}
