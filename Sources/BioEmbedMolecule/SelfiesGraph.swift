/// A directed molecular graph as selfies 2.x builds it: atoms in string order, out-bond lists in
/// the order the string writes them (ring-bond placeholders keep a ring opening's position), bond
/// counts per atom, and the root atom of each fragment.
struct SelfiesGraph {
    struct Bond {
        var source: Int
        var target: Int
        var order: Double
        var stereo: Character?
        var isRingBond: Bool
        /// Decoder attribution: the SELFIES symbol index of the atom the bond enters (ring bonds: nil).
        var attribution: Int?
    }

    var atoms: [SelfiesAtom] = []
    /// Decoder attribution per atom: the index of the SELFIES symbol that produced it.
    var atomAttribution: [Int] = []
    var roots: [Int] = []
    /// Out-bond slots per atom: indices into `bonds`, nil for an open ring placeholder.
    var outBonds: [[Int?]] = []
    var bonds: [Bond] = []
    /// (source, target) → bond index, for both directions of ring bonds, (min, max) for chain bonds.
    var bondIndex: [Int: Int] = [:]
    var bondCounts: [Double] = []
    var hasRingBond: [Bool] = []
    /// selfies' delocalization subgraph: atoms with aromatic (order 1.5) bonds, in the order they
    /// entered it, and each one's aromatic neighbours in bond order (`kekulize` empties it).
    var delocalized: [Int: [Int]] = [:]
    var delocalizedOrder: [Int] = []

    private mutating func delocalize(_ a: Int, _ b: Int) {
        if delocalized[a] == nil { delocalizedOrder.append(a) }
        delocalized[a, default: []].append(b)
    }

    private func key(_ a: Int, _ b: Int) -> Int { a << 32 | b }

    @discardableResult
    mutating func addAtom(_ atom: SelfiesAtom, root: Bool, attribution: Int = -1) -> Int {
        let index = atoms.count
        if root { roots.append(index) }
        atoms.append(atom)
        atomAttribution.append(attribution)
        outBonds.append([])
        bondCounts.append(0)
        hasRingBond.append(false)
        return index
    }

    func hasBond(_ a: Int, _ b: Int) -> Bool { bondIndex[key(min(a, b), max(a, b))] != nil }

    func bond(from source: Int, to target: Int) -> Bond? { bondIndex[key(source, target)].map { bonds[$0] } }

    mutating func addBond(source: Int, target: Int, order: Double, stereo: Character?, attribution: Int? = nil) {
        bonds.append(Bond(source: source, target: target, order: order, stereo: stereo, isRingBond: false, attribution: attribution))
        bondIndex[key(source, target)] = bonds.count - 1
        outBonds[source].append(bonds.count - 1)
        bondCounts[source] += order
        bondCounts[target] += order
        if order == 1.5 { delocalize(source, target); delocalize(target, source) }
    }

    mutating func addPlaceholder(source: Int) -> Int {
        outBonds[source].append(nil)
        return outBonds[source].count - 1
    }

    mutating func addRingBond(_ a: Int, _ b: Int, order: Double, stereoA: Character?, stereoB: Character?, positionA: Int, positionB: Int) {
        bonds.append(Bond(source: a, target: b, order: order, stereo: stereoA, isRingBond: true))
        bondIndex[key(a, b)] = bonds.count - 1
        place(bonds.count - 1, at: positionA, of: a)
        bonds.append(Bond(source: b, target: a, order: order, stereo: stereoB, isRingBond: true))
        bondIndex[key(b, a)] = bonds.count - 1
        place(bonds.count - 1, at: positionB, of: b)
        bondCounts[a] += order
        bondCounts[b] += order
        hasRingBond[a] = true
        hasRingBond[b] = true
        if order == 1.5 { delocalize(a, b); delocalize(b, a) }
    }

    /// selfies' `_add_bond_at_loc`: append (-1 or the end), fill a placeholder, or insert.
    private mutating func place(_ bond: Int, at position: Int, of atom: Int) {
        if position == -1 || position == outBonds[atom].count {
            outBonds[atom].append(bond)
        } else if outBonds[atom][position] == nil {
            outBonds[atom][position] = bond
        } else {
            outBonds[atom].insert(bond, at: position)
        }
    }

    /// Sets the order of the bond between `a` and `b` (both directions of a ring bond).
    mutating func updateBondOrder(_ a: Int, _ b: Int, to order: Double) {
        let (low, high) = (min(a, b), max(a, b))
        guard let forward = bondIndex[key(low, high)] else { return }
        let old = bonds[forward].order
        if order == old { return }
        bonds[forward].order = order
        if bonds[forward].isRingBond, let backward = bondIndex[key(high, low)] { bonds[backward].order = order }
        bondCounts[low] += order - old
        bondCounts[high] += order - old
    }

    /// The SMILES bond text (selfies' `bond_to_smiles`).
    static func bondText(_ bond: Bond) -> String {
        switch bond.order {
        case 1: if let stereo = bond.stereo { return String(stereo) } else { return "" }
        case 2: return "="
        case 3: return "#"
        default: return ""
        }
    }

    /// Writes the graph as SMILES in its own traversal order (selfies' `mol_to_smiles`) and, for
    /// every non-empty output token, the attribution index (nil for ring-bond tokens, which the
    /// decoder does not attribute).
    func smilesWithAttribution() -> (smiles: String, attributions: [Int?]) {
        var out = ""
        var attributions: [Int?] = []
        var ringNumbers: [Int: Int] = [:]
        for (fragment, root) in roots.enumerated() {
            if fragment > 0 { out += "." }
            var stack: [(atom: Int, next: Int, closes: Bool)] = [(root, 0, false)]
            while let top = stack.last {
                let atom = top.atom
                if top.next == 0 {
                    out += atoms[atom].smiles(brackets: true)
                    attributions.append(atomAttribution[atom])
                }
                let slots = outBonds[atom]
                if top.next < slots.count {
                    stack[stack.count - 1].next += 1
                    guard let bondID = slots[top.next] else { continue }
                    let bond = bonds[bondID]
                    let text = SelfiesGraph.bondText(bond)
                    if bond.isRingBond {
                        if !text.isEmpty {
                            out += text
                            attributions.append(nil)
                        }
                        let ends = key(min(bond.source, bond.target), max(bond.source, bond.target))
                        let number: Int
                        if let known = ringNumbers[ends] {
                            number = known
                        } else {
                            number = ringNumbers.count + 1
                            ringNumbers[ends] = number
                        }
                        out += number >= 10 ? "%\(number)" : "\(number)"
                    } else {
                        let notLast = top.next < slots.count - 1
                        if notLast { out += "(" }
                        if !text.isEmpty {
                            out += text
                            attributions.append(bond.attribution)
                        }
                        stack.append((bond.target, 0, notLast))
                    }
                } else {
                    stack.removeLast()
                    if top.closes { out += ")" }
                }
            }
        }
        return (out, attributions)
    }
}
