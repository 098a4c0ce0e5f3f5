/// Which residues of a PDB file mkdssp 4.2.2 reads as polymer: its reader (libcifpp 5.0) aligns the
/// chain's `SEQRES` names with the standard amino acids seen in the atom records (a Gotoh
/// alignment in single precision: match +5, mismatch −10, gap open 10 — free before a numbering
/// gap —, extend 0.1), numbers the `SEQRES` entries from their aligned residues (unaligned ones
/// continue from the previous entry, or count down from the next), and keeps a residue when its
/// (name, number, insertion code) is such an entry, or for a residue with altlocs its (number,
/// insertion code). Without `SEQRES` the standard amino acids are the sequence.
///
/// libcifpp's reader then maps every residue it takes for a ligand onto its position (number,
/// insertion code), over the polymer's: a residue whose name is not a standard amino acid or base,
/// or any residue once the chain's atom records outnumber the residues it saw before the chain's
/// first `TER` (it compares a count of atoms with a count of residues), that is not itself a
/// numbered `SEQRES` entry. mkdssp reads nothing at such a position: a microheterogeneity variant
/// named differently from `SEQRES` (1EJG's SER 22 beside PRO 22), or a water numbered like a
/// residue, removes the residue.
/// Cost: O(SEQRES × residues) per chain (the alignment; skipped when the two name lists are equal),
/// about 7 ns per cell: 9 ms for a 1,174-residue chain.
struct SequenceNumbering {
    struct Key: Hashable { var name: PackedName; var number: Int32; var icode: UInt8 }
    struct Position: Hashable { var number: Int32; var icode: UInt8 }

    /// The names libcifpp 5.0 knows as amino acids without its chemical component dictionary.
    static let knownPeptides = Set(["ALA", "ARG", "ASN", "ASP", "CYS", "GLN", "GLU", "GLY", "HIS", "ILE", "LEU", "LYS",
                                    "MET", "PHE", "PRO", "SER", "THR", "TRP", "TYR", "VAL", "GLX", "ASX"].map(PackedName.init))

    private var keys: Set<Key> = []
    private var positions: Set<Position> = []
    /// Positions libcifpp maps to a ligand (see above): no residue there is read.
    private var taken: Set<Position> = []
    /// false: no usable `SEQRES`; polymer then means a known amino-acid name.
    private var aligned = false

    /// The nucleotides libcifpp knows without its dictionary (they are not ligands either).
    static let knownBases = Set(["A", "C", "G", "U", "T", "DA", "DC", "DG", "DT", "DU", "N", "DN"].map(PackedName.init))

    /// One alignment's input; chains of a file that repeat one (copies of a complex) align once.
    struct Input: Hashable { var sequence: [PackedName]; var seen: [Key] }
    /// The numbered `SEQRES` entries and the index of the last seen residue in the alignment.
    struct Numbered { var entries: [Key]; var lastAligned: Int }

    /// The numbering of structure chain `chain` (a chain of `s`); `memo` holds the file's alignments.
    init(_ s: StructureModel, chain: Int, memo: inout [Input: Numbered?]) {
        let residues = s.chainResidueOffsets[chain] ..< s.chainResidueOffsets[chain + 1]
        guard let sequence = s.sequenceResidueNames[s.chainNames[chain]], !sequence.isEmpty else { return }
        // the standard amino acids seen, in order, up to the chain's polymer end (TER); a residue
        // at the number and insertion code of the one before is not seen again (microheterogeneity)
        var seen: [Key] = []
        var seenBeforeTer = 0
        let beforeTer = s.residuesBeforeTer[s.chainNames[chain]]
        for (k, r) in residues.enumerated() where Self.knownPeptides.contains(s.residueNames[r]) {
            let entity = s.entityTypes[r]
            guard entity == .polymer || entity == .unknown else { continue }
            let key = Key(name: s.residueNames[r], number: s.residueNumbers[r], icode: s.insertionCodes[r])
            if let last = seen.last, last.number == key.number, last.icode == key.icode { continue }
            seen.append(key)
            if let beforeTer, k < beforeTer { seenBeforeTer = seen.count }
        }
        let input = Input(sequence: sequence, seen: seen)
        let result: Numbered?
        if let known = memo[input] { result = known } else {
            result = Self.number(sequence, seen: seen)
            memo[input] = .some(result)
        }
        guard let numbered = result else { return }
        aligned = true
        for key in numbered.entries {
            keys.insert(key)
            positions.insert(Position(number: key.number, icode: key.icode))
        }
        // libcifpp's polymer end: the residues seen before the first TER, or the last one aligned
        var polymerEnd = beforeTer == nil ? 0 : seenBeforeTer
        if numbered.lastAligned > 0 && numbered.lastAligned + 1 < seen.count { polymerEnd = numbered.lastAligned + 1 }
        var atomCount = 0
        for r in residues {
            atomCount += s.residueAtomOffsets[r + 1] - s.residueAtomOffsets[r]
            let name = s.residueNames[r]
            let ligand = !(Self.knownPeptides.contains(name) || Self.knownBases.contains(name)) || (polymerEnd > 0 && atomCount >= polymerEnd)
            if ligand && !keys.contains(Key(name: name, number: s.residueNumbers[r], icode: s.insertionCodes[r])) {
                taken.insert(Position(number: s.residueNumbers[r], icode: s.insertionCodes[r]))
            }
        }
    }

    /// Whether residue `r` (of the chain) is read as polymer.
    func isPolymer(_ s: StructureModel, residue r: Int) -> Bool {
        guard aligned else { return Self.knownPeptides.contains(s.residueNames[r]) }
        if taken.contains(Position(number: s.residueNumbers[r], icode: s.insertionCodes[r])) { return false }
        if keys.contains(Key(name: s.residueNames[r], number: s.residueNumbers[r], icode: s.insertionCodes[r])) { return true }
        let altloc = (s.residueAtomOffsets[r] ..< s.residueAtomOffsets[r + 1]).contains { s.altlocs[$0] != 0 }
        return altloc && positions.contains(Position(number: s.residueNumbers[r], icode: s.insertionCodes[r]))
    }

    /// The `SEQRES` entries with numbers (libcifpp's AlignResToSeqRes), nil where it fails (a seen
    /// residue missing from `SEQRES`, or nothing to number from).
    static func number(_ sequence: [PackedName], seen: [Key]) -> Numbered? {
        let dimX = sequence.count, dimY = seen.count
        guard dimX > 0, dimY > 0, dimX.multipliedReportingOverflow(by: dimY).partialValue <= 1 << 26 else { return nil }
        let matchReward: Float = 5, mismatchCost: Float = -10, gapOpenCost: Float = 10, gapExtend: Float = 0.1
        // gap opening is free at the first seen residue and before a jump in the seen numbering
        let gapOpenAt = (0..<dimY).map { y -> Float in
            y == 0 || (y + 1 < dimY && Int(seen[y + 1].number) > Int(seen[y].number) + 1) ? 0 : gapOpenCost
        }
        let names = seen.map(\.name.raw), wanted = sequence.map(\.raw)
        if names == wanted {   // the same names in the same order: the alignment is the identity
            return Numbered(entries: seen, lastAligned: dimY - 1)
        }
        let tbStorage = UnsafeMutablePointer<Int8>.allocate(capacity: dimX * dimY)
        // two rows of B and Ix (row x−1 and row x) and the current row's Iy: O(dimY) scores
        let scores = UnsafeMutablePointer<Float>.allocate(capacity: 5 * dimY)
        let openAt = UnsafeMutablePointer<Float>.allocate(capacity: dimY)
        let seenNames = UnsafeMutablePointer<UInt32>.allocate(capacity: dimY)
        defer { tbStorage.deallocate(); scores.deallocate(); openAt.deallocate(); seenNames.deallocate() }
        scores.initialize(repeating: 0, count: 5 * dimY)
        for y in 0..<dimY { openAt[y] = gapOpenAt[y]; seenNames[y] = names[y] }
        var pb = scores, pix = scores + dimY, b = scores + 2 * dimY, ix = scores + 3 * dimY
        let iy = scores + 4 * dimY
        var high: Float = 0, highX = 0, highY = 0
        for x in 0..<dimX {
            let want = wanted[x]
            let lastX = x == dimX - 1
            let tb = tbStorage + x * dimY
            for y in 0..<dimY {
                let ix1: Float = x > 0 ? pix[y] : 0
                let iy1: Float = y > 0 ? iy[y - 1] : 0
                var m: Float = want == seenNames[y] ? matchReward : mismatchCost
                let gapOpen = openAt[y]
                if x > 0 && y > 0 { m += pb[y - 1] }
                let openX: Float = lastX ? 0 : gapOpen, openY: Float = y < dimY - 1 ? gapOpen : 0
                let score: Float
                if m >= ix1 && m >= iy1 {
                    tb[y] = 0
                    b[y] = m; score = m
                    ix[y] = m - openX
                    iy[y] = m - openY
                } else if ix1 >= iy1 {
                    tb[y] = 1
                    b[y] = ix1; score = ix1
                    ix[y] = ix1 - gapExtend
                    let v = m - openY
                    iy[y] = v < iy1 - gapExtend ? iy1 - gapExtend : v
                } else {
                    tb[y] = -1
                    b[y] = iy1; score = iy1
                    let v = m - openX
                    ix[y] = v < ix1 - gapExtend ? ix1 - gapExtend : v
                    iy[y] = iy1 - gapExtend
                }
                if high < score { high = score; highX = x; highY = y }
            }
            swap(&pb, &b)
            swap(&pix, &ix)
        }
        var result = sequence.map { Key(name: $0, number: 0, icode: 0x20) }
        var numbered = [Bool](repeating: false, count: dimX)
        var x = highX, y = highY
        while x >= 0 && y >= 0 {
            switch tbStorage[x * dimY + y] {
            case -1: return nil   // a residue of the atom records that SEQRES lacks: libcifpp gives up
            case 1: x -= 1
            default:
                result[x] = seen[y]   // a mismatch takes the atom records' name, as libcifpp does
                numbered[x] = true
                x -= 1; y -= 1
            }
        }
        var pending: [Int] = []
        for x in 0..<dimX where !numbered[x] {
            if x > 0 && numbered[x - 1] {
                result[x].number = result[x - 1].number &+ 1
                numbered[x] = true
            } else {
                pending.append(x)
            }
        }
        while let x = pending.popLast() {
            guard x < dimX - 1 else { return nil }
            result[x].number = result[x + 1].number &- 1
        }
        return Numbered(entries: result, lastAligned: highY)
    }
}
