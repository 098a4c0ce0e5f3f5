import Foundation

/// E3FP (Axen et al. 2017) as the keiserlab `e3fp` package computes it with 3D-MolT5's settings:
/// RDKit invariants, stereo, disconnected neighbours, duplicate-substructure removal, counts off.
///
/// Level 0 hashes each heavy atom's invariants; level `l` hashes `[l, own previous id, sorted
/// (bond code, neighbour previous id, stereo indicator)…]` over every heavy atom within
/// `l · radiusMultiplier` Å (bond code 5 = not bonded). A shell whose atom set was seen before
/// (earlier level, or earlier in (identifier, atom) order) is left out; iteration stops after
/// `level`, when every shell covers all atoms, or when a level adds nothing (that level is then
/// not recorded). Identifiers fold to `id mod 2³² mod bits`.
///
/// Neighbours come from a uniform grid (cells of the largest radius), so a level costs
/// O(atoms · neighbours) rather than O(atoms²). Substructures are bit sets.
public struct E3FP: Sendable {
    public var bits: Int
    public var level: Int
    public var radiusMultiplier: Double

    public init(bits: Int = 4096, level: Int = 3, radiusMultiplier: Double = 1.718) {
        self.bits = bits
        self.level = level
        self.radiusMultiplier = radiusMultiplier
    }

    /// Per-atom input: atomic number (H = 1 atoms are skipped), RDKit invariants.
    public struct Atom: Sendable {
        public var atomicNumber: Int
        public var invariants: [Int64]
        public init(atomicNumber: Int, invariants: [Int64]) {
            self.atomicNumber = atomicNumber
            self.invariants = invariants
        }
    }

    /// Fingerprints one conformer.
    ///
    /// - Parameters:
    ///   - atoms: every atom of the molecule, in index order.
    ///   - bonds: `(a, b, code)` with code 1…4 (single, double, triple, aromatic).
    ///   - coordinates: `[atoms.count * 3]` Å.
    /// - Throws: `MoleculeError.unsupportedBond` naming the atoms when a bond between heavy atoms has
    ///   another type (e3fp itself raises there).
    public func fingerprint(atoms: [Atom], bonds: [(Int, Int, Int)], coordinates: [Double]) throws(MoleculeError) -> E3FPResult {
        try fingerprint(atomicNumbers: atoms.map(\.atomicNumber), bonds: bonds, coordinates: coordinates) {
            MurmurHash3.x86_32(int64s: atoms[$0].invariants)
        }
    }

    /// `fingerprint(atoms:…)` with each atom's level-0 identifier (the hash of its invariants)
    /// given by `initialIdentifier(atomIndex)`, so callers need no array of invariants per atom.
    func fingerprint(atomicNumbers: [Int], bonds: [(Int, Int, Int)], coordinates: [Double],
                     initialIdentifier: (Int) -> Int32) throws(MoleculeError) -> E3FPResult {
        let atomCount = atomicNumbers.count
        let heavy = atomicNumbers.indices.filter { atomicNumbers[$0] > 1 }
        let n = heavy.count
        let columns = level + 1
        var result = E3FPResult(
            bits: [], identifiers: [Int64](repeating: 0, count: atomCount * columns),
            tokens: [Int32](repeating: -1, count: atomCount * columns), levelsRun: 0, remapped: 0, unmerged: 0)
        guard n > 0 else { return result }
        var local = [Int](repeating: -1, count: atomCount)
        for (k, a) in heavy.enumerated() { local[a] = k }

        // Bond codes between heavy atoms (5 = not bonded): a dense n×n table up to 2048 atoms.
        let dense = n <= 2048
        var denseCodes = [Int8](repeating: 5, count: dense ? n * n : 0)
        var sparseCodes: [Int: Int64] = [:]
        for (a, b, code) in bonds where local[a] >= 0 && local[b] >= 0 {
            guard (1...4).contains(code) else {
                throw MoleculeError.unsupportedBond(atoms: (a, b))
            }
            if dense {
                denseCodes[local[a] * n + local[b]] = Int8(code)
                denseCodes[local[b] * n + local[a]] = Int8(code)
            } else {
                sparseCodes[local[a] * n + local[b]] = Int64(code)
                sparseCodes[local[b] * n + local[a]] = Int64(code)
            }
        }
        func bondCode(_ a: Int, _ b: Int) -> Int64 { dense ? Int64(denseCodes[a * n + b]) : (sparseCodes[a * n + b] ?? 5) }
        var xyz = [Double](repeating: 0, count: 3 * n)
        for (k, a) in heavy.enumerated() {
            xyz[3 * k] = coordinates[3 * a]
            xyz[3 * k + 1] = coordinates[3 * a + 1]
            xyz[3 * k + 2] = coordinates[3 * a + 2]
        }
        let neighbours = NeighbourGrid.pairs(xyz, count: n, cutoff: Double(level) * radiusMultiplier)

        let words = (n + 63) / 64
        // Level 0.
        var ids = [Int32](repeating: 0, count: n)
        for k in 0..<n { ids[k] = initialIdentifier(heavy[k]) }
        var substructs = [UInt64](repeating: 0, count: n * words)
        for k in 0..<n { substructs[k * words + k / 64] |= 1 << UInt64(k % 64) }
        func key(_ buffer: [UInt64], _ index: Int) -> SubstructKey {
            buffer.withUnsafeBufferPointer { SubstructKey(UnsafeBufferPointer(rebasing: $0[(index * words)..<((index + 1) * words)])) }
        }
        func bitset(_ buffer: UnsafeBufferPointer<UInt64>, _ index: Int) -> UnsafeBufferPointer<UInt64> {
            UnsafeBufferPointer(rebasing: buffer[(index * words)..<((index + 1) * words)])
        }
        var seen = SubstructSet(wordsPerSet: words, expected: n * (level + 1))
        substructs.withUnsafeBufferPointer { buffer in
            for k in 0..<n { _ = seen.insert(bitset(buffer, k)) }
        }
        var allIds: [Int32] = ids
        var allSubstructs: [UInt64] = substructs
        var accepted: [Int32] = ids
        var levelsRun = 1

        var current = 0
        // per-shell scratch: (code, id, neighbour, _) tuples, (code, id, stereo) triples, hash input
        let tuples = UnsafeMutablePointer<(Int64, Int64, Int, Int)>.allocate(capacity: max(n, 1))
        let triples = UnsafeMutablePointer<(Int64, Int64, Int64)>.allocate(capacity: max(n, 1))
        let hashInput = UnsafeMutablePointer<Int64>.allocate(capacity: 2 + 3 * n)
        var stereo = StereoIndicators.Scratch()
        defer { tuples.deallocate(); triples.deallocate(); hashInput.deallocate(); stereo.deallocate() }
        while current < level {
            // Stop when every shell already covers all atoms.
            var allFull = true
            for k in 0..<n where allFull {
                var count = 0
                for w in 0..<words { count += substructs[k * words + w].nonzeroBitCount }
                if count != n { allFull = false }
            }
            if allFull { break }
            let l = current + 1
            let radius = Double(l) * radiusMultiplier
            var newIds = [Int32](repeating: 0, count: n)
            var newSubstructs = [UInt64](repeating: 0, count: n * words)
            xyz.withUnsafeBufferPointer { xyz in
            newSubstructs.withUnsafeMutableBufferPointer { newSubstructs in
            substructs.withUnsafeBufferPointer { substructs in
                for k in 0..<n {
                    newSubstructs[k * words + k / 64] |= 1 << UInt64(k % 64)
                    var m = 0
                    for e in neighbours.start[k]..<neighbours.start[k + 1] where neighbours.distance[e] <= radius {
                        let j = Int(neighbours.index[e])
                        for w in 0..<words { newSubstructs[k * words + w] |= substructs[j * words + w] }
                        // insertion by (code, id, neighbour): the order e3fp sorts the shell in
                        let entry = (bondCode(k, j), Int64(ids[j]), j, 0)
                        var p = m
                        while p > 0 && (entry.0, entry.1, entry.2) < (tuples[p - 1].0, tuples[p - 1].1, tuples[p - 1].2) {
                            tuples[p] = tuples[p - 1]
                            p -= 1
                        }
                        tuples[p] = entry
                        m += 1
                    }
                    StereoIndicators.compute(center: k, tuples: UnsafeBufferPointer(start: tuples, count: m), xyz: xyz, scratch: &stereo)
                    for i in 0..<m {
                        let entry = (tuples[i].0, tuples[i].1, stereo.indicators[i])
                        var p = i
                        while p > 0 && entry < triples[p - 1] {
                            triples[p] = triples[p - 1]
                            p -= 1
                        }
                        triples[p] = entry
                    }
                    hashInput[0] = Int64(l)
                    hashInput[1] = Int64(ids[k])
                    for i in 0..<m {
                        hashInput[2 + 3 * i] = triples[i].0
                        hashInput[3 + 3 * i] = triples[i].1
                        hashInput[4 + 3 * i] = triples[i].2
                    }
                    newIds[k] = MurmurHash3.x86_32(int64s: UnsafeBufferPointer(start: hashInput, count: 2 + 3 * m))
                }
            }}}
            // Duplicate removal in (identifier, atom) order.
            let order = (0..<n).sorted { (newIds[$0], $0) < (newIds[$1], $1) }
            var acceptedNow: [Int32] = []
            for k in order {
                if newSubstructs.withUnsafeBufferPointer({ seen.insert(bitset($0, k)) }) { acceptedNow.append(newIds[k]) }
            }
            if acceptedNow.isEmpty { break }
            accepted.append(contentsOf: acceptedNow)
            allIds.append(contentsOf: newIds)
            allSubstructs.append(contentsOf: newSubstructs)
            ids = newIds
            substructs = newSubstructs
            levelsRun += 1
            current = l
        }

        let mask = UInt32(bits - 1)
        let isPowerOfTwo = bits > 0 && bits & (bits - 1) == 0
        func fold(_ id: Int32) -> Int32 {
            let unsigned = UInt32(bitPattern: id)
            return Int32(isPowerOfTwo ? unsigned & mask : unsigned % UInt32(bits))
        }
        var onBits = [Bool](repeating: false, count: bits)
        var folded = accepted.map(fold)
        folded.sort()
        for bit in folded where !onBits[Int(bit)] {
            onBits[Int(bit)] = true
            result.bits.append(bit)
        }
        result.levelsRun = levelsRun

        // Re-point duplicate shells (3D-MolT5's merge): the first shell in level-major order with
        // the same atom set, another identifier and an on-bit.
        let shellCount = allIds.count
        var groups: [SubstructKey: [Int]] = [:]
        var needsPartner = false
        for s in 0..<shellCount where !onBits[Int(fold(allIds[s]))] { needsPartner = true; break }
        if needsPartner {
            for s in 0..<shellCount { groups[key(allSubstructs, s), default: []].append(s) }
        }
        for s in 0..<shellCount {
            var id = allIds[s]
            if !onBits[Int(fold(id))] {
                if let partner = groups[key(allSubstructs, s)]?.first(where: { allIds[$0] != id && onBits[Int(fold(allIds[$0]))] }) {
                    id = allIds[partner]
                    result.remapped += 1
                } else {
                    result.unmerged += 1
                }
            }
            let atom = heavy[s % n]
            let column = s / n
            result.identifiers[atom * columns + column] = Int64(id)
            result.tokens[atom * columns + column] = fold(id)
        }
        return result
    }
}
