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
                let firstResidue = s.chainResidueOffsets[ch], endResidue = s.chainResidueOffsets[ch + 1]
                chain.reserveCapacity(endResidue - firstResidue)
                var previous: (Int32, UInt8)? = nil
                for r in firstResidue ..< endResidue {
                    let seqid = (s.residueNumbers[r], s.insertionCodes[r])
                    defer { previous = seqid }
                    if let p = previous, p == seqid { continue }
                    let entity = s.entityTypes[r]
                    guard entity == .polymer || entity == .unknown, !s.isOtherRecord[r] else { continue }
                    // picked atom (-1: none) and its occupancy, for N, CA, C and CB
                    var pickN = -1, pickCA = -1, pickC = -1, pickCB = -1
                    var occN = -Float.infinity, occCA = -Float.infinity, occC = -Float.infinity, occCB = -Float.infinity
                    func choose(_ pick: inout Int, _ best: inout Float, _ a: Int) {
                        switch policy {
                        case .first: if pick < 0 { pick = a }
                        case .last: pick = a
                        case .occupancy:
                            if pick < 0 || s.occupancies[a] > best {
                                pick = a
                                best = s.occupancies[a]
                            }
                        }
                    }
                    var altloc = false
                    for a in s.residueAtomOffsets[r] ..< s.residueAtomOffsets[r + 1] {
                        if s.altlocs[a] != 0 { altloc = true }
                        switch s.atomNames[a] {
                        case .n: choose(&pickN, &occN, a)
                        case .ca: choose(&pickCA, &occCA, a)
                        case .c: choose(&pickC, &occC, a)
                        case .cb: choose(&pickCB, &occCB, a)
                        default: continue
                        }
                    }
                    guard pickCA >= 0 else { continue }
                    chain.residueNames.append(s.residueNames[r])
                    chain.residueNumbers.append(s.residueNumbers[r])
                    chain.insertionCodes.append(s.insertionCodes[r])
                    chain.isHetero.append(s.isHetero[r])
                    chain.residueIndices.append(Int32(r))
                    chain.hadAltloc.append(altloc)
                    chain.sequence.append(ResidueTables.oneLetter(s.residueNames[r]))
                    func put(_ array: inout [Double], _ a: Int) {
                        if a >= 0 { array.append(s.x[a]); array.append(s.y[a]); array.append(s.z[a]) }
                        else { array.append(.nan); array.append(.nan); array.append(.nan) }
                    }
                    put(&chain.n, pickN)
                    put(&chain.ca, pickCA)
                    put(&chain.c, pickC)
                    put(&chain.cb, pickCB)
                    chain.caBFactor.append(s.bFactors.isEmpty ? .nan : s.bFactors[pickCA])
                }
                if chain.count > 0 { result.append(chain) }
            }
        }
        return result
    }
}
