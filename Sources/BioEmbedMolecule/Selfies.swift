/// SELFIES (selfies 2.x semantics, default constraints), written from the package's documented
/// behaviour: `encode` (SMILES → SELFIES), `split` (`split_selfies`) and `decode` (SELFIES →
/// SMILES plus the decoder's attribution, used to align tokens with atoms).
public enum Selfies {
    /// Translates a SMILES string to SELFIES, keeping its atom order (`selfies.encoder`).
    ///
    /// - Parameter strict: check the default bond constraints first (the reference tries strict,
    ///   then `strict: false`).
    /// - Throws: `SelfiesError.smiles` for input the encoder cannot read (including aromatic atoms:
    ///   pass RDKit's kekulé SMILES), `.constraints` when strict and an atom has too many bonds.
    /// - Complexity: O(length of the SMILES).
    public static func encode(_ smiles: String, strict: Bool = true) throws(SelfiesError) -> String {
        try encodeSymbols(smiles, strict: strict).map { $0.joined() }.joined(separator: ".")
    }

    /// `encode`'s symbols, one list per fragment (what `split` would give back, without the `.`s).
    static func encodeSymbols(_ smiles: String, strict: Bool = true) throws(SelfiesError) -> [[String]] {
        var graph = try SmilesParser.parse(smiles)
        guard graph.kekulize() else { throw SelfiesError.smiles(smiles: smiles, position: 0, problem: "kekulization failed (no alternating single/double bonds fit the aromatic bonds)") }
        if strict {
            var violations: [String] = []
            for (index, atom) in graph.atoms.enumerated() where graph.bondCounts[index] > Double(atom.bondingCapacity) {
                violations.append("\(atom.smiles(brackets: true)) with \(Int(graph.bondCounts[index])) bond(s), a max. of \(atom.bondingCapacity) allowed")
            }
            if !violations.isEmpty { throw SelfiesError.constraints(smiles: smiles, violations: violations) }
        }
        for index in graph.atoms.indices where graph.atoms[index].chirality != nil && graph.hasRingBond[index] {
            if shouldInvertChirality(graph, index) { graph.atoms[index].invertChirality() }
        }
        return graph.roots.map { fragmentSymbols(graph, into: nil, root: $0) }
    }

    /// `encodeLikeReference` as the SELFIES string and its `split` tokens (`.` between fragments),
    /// built together instead of splitting the string again.
    static func encodeTokensLikeReference(_ smiles: String) throws(SelfiesError) -> (selfies: String, tokens: [String]) {
        let fragments: [[String]]
        do {
            fragments = try encodeSymbols(smiles, strict: true)
        } catch {
            fragments = try encodeSymbols(smiles, strict: false)
        }
        var tokens: [String] = []
        for (k, fragment) in fragments.enumerated() {
            if k > 0 { tokens.append(".") }
            tokens.append(contentsOf: fragment)
        }
        return (fragments.map { $0.joined() }.joined(separator: "."), tokens)
    }

    /// `encode(strict: true)`, falling back to `strict: false` as the 3D-MolT5 tokenizer does.
    public static func encodeLikeReference(_ smiles: String) throws(SelfiesError) -> String {
        try encodeTokensLikeReference(smiles).selfies
    }

    /// The symbols of a SELFIES string: `[...]` tokens and `.` (`split_selfies`). A hanging `[`
    /// ends the list (selfies raises there).
    public static func split(_ selfies: String) -> [String] {
        var tokens: [String] = []
        let chars = Array(selfies.utf8)
        guard var left = chars.firstIndex(of: UInt8(ascii: "[")) else { return [] }
        while left < chars.count {
            guard let right = chars[(left + 1)...].firstIndex(of: UInt8(ascii: "]")) else { break }
            tokens.append(String(decoding: chars[left...right], as: UTF8.self))
            left = right + 1
            if left < chars.count, chars[left] == UInt8(ascii: ".") {
                tokens.append(".")
                left += 1
            }
        }
        return tokens
    }

    // MARK: Encoder internals

    private static func shouldInvertChirality(_ graph: SelfiesGraph, _ atom: Int) -> Bool {
        let slots = graph.outBonds[atom].compactMap { $0 }.map { graph.bonds[$0] }
        var closing: [Int] = [], opening: [Int] = [], other: [Int] = []
        for (i, bond) in slots.enumerated() {
            if !bond.isRingBond {
                other.append(i)
            } else if bond.source < bond.target {
                opening.append(i)
            } else {
                closing.append(i)
            }
        }
        opening.sort { slots[$0].target < slots[$1].target }
        let permutation = closing + opening + other
        var inversions = 0
        for i in permutation.indices {
            for j in (i + 1)..<permutation.count where permutation[i] > permutation[j] { inversions += 1 }
        }
        return inversions % 2 != 0
    }

    private static func bondSymbol(_ bond: SelfiesGraph.Bond, showStereo: Bool) -> String {
        if !showStereo && bond.order == 1 { return "" }
        return SelfiesGraph.bondText(bond)
    }

    private static func fragmentSymbols(_ graph: SelfiesGraph, into bondIntoRoot: SelfiesGraph.Bond?, root: Int) -> [String] {
        var derived: [String] = []
        var incoming = bondIntoRoot
        var current = root
        while true {
            let bondText = incoming.map { bondSymbol($0, showStereo: true) } ?? ""
            derived.append("[" + bondText + graph.atoms[current].smiles(brackets: false) + "]")
            let slots = graph.outBonds[current].compactMap { $0 }.map { graph.bonds[$0] }
            var next: (SelfiesGraph.Bond, Int)?
            for (i, bond) in slots.enumerated() {
                if bond.isRingBond {
                    if bond.source < bond.target { continue }
                    guard let reverse = graph.bond(from: bond.target, to: bond.source) else { continue }
                    let q = SelfiesGrammar.symbols(forIndex: bond.source - bond.target - 1)
                    derived.append("[" + ringBondSymbol(reverse, bond) + "Ring\(q.count)]")
                    derived.append(contentsOf: q)
                } else if i == slots.count - 1 {
                    next = (bond, bond.target)
                } else {
                    let branch = fragmentSymbols(graph, into: bond, root: bond.target)
                    let q = SelfiesGrammar.symbols(forIndex: branch.count - 1)
                    derived.append("[" + bondSymbol(bond, showStereo: false) + "Branch\(q.count)]")
                    derived.append(contentsOf: q)
                    derived.append(contentsOf: branch)
                }
            }
            guard let (bond, target) = next, let last = slots.last, !last.isRingBond else { break }
            incoming = bond
            current = target
        }
        return derived
    }

    private static func ringBondSymbol(_ left: SelfiesGraph.Bond, _ right: SelfiesGraph.Bond) -> String {
        if left.order != 1 || (left.stereo == nil && right.stereo == nil) { return bondSymbol(left, showStereo: false) }
        return String(left.stereo ?? "-") + String(right.stereo ?? "-")
    }
}
