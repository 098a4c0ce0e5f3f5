/// Turns a `StructureModel` into protein chains with foldseek's residue rules (GemmiWrapper):
///
/// - per model (the first only unless `allModels`), per chain in file order;
/// - residues of the first conformer (a residue with the same number and insertion code as the one
///   before it, i.e. a microheterogeneity variant, is skipped);
/// - entity type polymer or unknown (waters and ligands sharing the chain id drop out), ATOM or
///   HETATM (modified residues such as MSE, CSO, SME stay);
/// - an atom named exactly `CA` must exist; N, C, CB may be missing (NaN);
/// - per atom name the altloc `policy` picks the record (first, highest occupancy, last).
/// Chains without kept residues are left out. Cost: O(atoms).
public enum ChainExtractor {
    public static func chains(_ s: StructureModel, policy: AltlocPolicy = .first, allModels: Bool = false) -> [ProteinChain] {
        var result: [ProteinChain] = []
        let modelLimit = allModels ? s.modelNumbers.count : min(1, s.modelNumbers.count)
        for m in 0..<modelLimit {
            for ch in s.modelChainOffsets[m] ..< s.modelChainOffsets[m + 1] {
                var chain = ProteinChain(name: s.chainNames[ch], model: s.modelNumbers[m])
                var previous: (Int32, UInt8)? = nil
                for r in s.chainResidueOffsets[ch] ..< s.chainResidueOffsets[ch + 1] {
                    let seqid = (s.residueNumbers[r], s.insertionCodes[r])
                    defer { previous = seqid }
                    if let p = previous, p == seqid { continue }
                    let entity = s.entityTypes[r]
                    guard entity == .polymer || entity == .unknown else { continue }
                    var picks = [-1, -1, -1, -1]          // N, CA, C, CB
                    var occupancy: [Float] = [-.infinity, -.infinity, -.infinity, -.infinity]
                    var altloc = false
                    for a in s.residueAtomOffsets[r] ..< s.residueAtomOffsets[r + 1] {
                        if s.altlocs[a] != 0 { altloc = true }
                        let slot: Int
                        switch s.atomNames[a] {
                        case .n: slot = 0
                        case .ca: slot = 1
                        case .c: slot = 2
                        case .cb: slot = 3
                        default: continue
                        }
                        switch policy {
                        case .first: if picks[slot] < 0 { picks[slot] = a }
                        case .last: picks[slot] = a
                        case .occupancy:
                            if picks[slot] < 0 || s.occupancies[a] > occupancy[slot] {
                                picks[slot] = a
                                occupancy[slot] = s.occupancies[a]
                            }
                        }
                    }
                    guard picks[1] >= 0 else { continue }
                    chain.residueNames.append(s.residueNames[r])
                    chain.residueNumbers.append(s.residueNumbers[r])
                    chain.insertionCodes.append(s.insertionCodes[r])
                    chain.isHetero.append(s.isHetero[r])
                    chain.hadAltloc.append(altloc)
                    chain.sequence.append(ResidueTables.oneLetter(s.residueNames[r]))
                    func put(_ array: inout [Double], _ a: Int) {
                        if a >= 0 { array.append(s.x[a]); array.append(s.y[a]); array.append(s.z[a]) }
                        else { array.append(.nan); array.append(.nan); array.append(.nan) }
                    }
                    put(&chain.n, picks[0])
                    put(&chain.ca, picks[1])
                    put(&chain.c, picks[2])
                    put(&chain.cb, picks[3])
                }
                if chain.count > 0 { result.append(chain) }
            }
        }
        return result
    }
}
