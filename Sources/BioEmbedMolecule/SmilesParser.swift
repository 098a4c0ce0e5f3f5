/// Reads a SMILES string into a `SelfiesGraph` exactly as selfies 2.x's `smiles_to_mol` does:
/// atoms in string order, ring-bond placeholders at the opening position, ring bonds appended
/// at the closing atom, branch bonds before the continuing chain bond.
///
/// Aromatic (lowercase) atoms are rejected: the input is RDKit's kekulé SMILES, which has none.
/// Complexity O(length).
enum SmilesParser {
    static func parse(_ smiles: String) throws(SelfiesError) -> SelfiesGraph {
        // SMILES are ASCII (RDKit writes nothing else), so the string is read as bytes: positions
        // in messages are byte offsets, equal to character offsets for ASCII.
        let chars = Array(smiles.utf8)
        func fail(_ position: Int, _ problem: String) -> SelfiesError {
            .smiles(smiles: smiles, position: position, problem: problem)
        }
        func text(_ range: ClosedRange<Int>) -> String { String(decoding: chars[range], as: UTF8.self) }
        @inline(__always) func isLetter(_ b: UInt8) -> Bool { (b | 0x20) >= 0x61 && (b | 0x20) <= 0x7A }
        @inline(__always) func isDigit(_ b: UInt8) -> Bool { b &- 0x30 < 10 }
        if chars.isEmpty { throw fail(0, "empty SMILES") }
        if let odd = chars.firstIndex(where: { $0 >= 0x80 }) { throw fail(odd, "non-ASCII character in the SMILES") }
        var graph = SelfiesGraph()
        var i = 0
        while i < chars.count {
            // One fragment (up to a '.').
            var previous: [Int?] = [nil]
            var openBranches: [Int] = []
            var ringLog: [String: (bond: Character?, atom: Int, slot: Int, position: Int)] = [:]
            var ringOrder: [String] = []
            var chainStart = true
            var atomsInFragment = 0
            fragment: while i < chars.count {
                let c = chars[i]
                if c == UInt8(ascii: ".") {
                    i += 1
                    break fragment
                }
                var bondChar: Character?
                var bondPosition = i
                switch c {
                case UInt8(ascii: "-"), UInt8(ascii: "/"), UInt8(ascii: "\\"), UInt8(ascii: ":"), UInt8(ascii: "="), UInt8(ascii: "#"):
                    bondChar = Character(UnicodeScalar(c))
                    bondPosition = i
                    i += 1
                    if i == chars.count { throw fail(i - 1, "hanging bond") }
                default:
                    break
                }
                let s = chars[i]
                if isLetter(s) || s == UInt8(ascii: "[") {
                    let atom: SelfiesAtom
                    if s == UInt8(ascii: "[") {
                        guard let close = chars[(i + 1)...].firstIndex(of: UInt8(ascii: "]")) else { throw fail(i, "hanging bracket [") }
                        guard let parsed = bracketAtom(String(decoding: chars[(i + 1)..<close], as: UTF8.self)) else {
                            throw fail(i, "invalid atom symbol '\(text(i...close))'")
                        }
                        atom = parsed
                        i = close + 1
                    } else {
                        let two = i + 1 < chars.count
                            && ((s == UInt8(ascii: "B") && chars[i + 1] == UInt8(ascii: "r")) || (s == UInt8(ascii: "C") && chars[i + 1] == UInt8(ascii: "l")))
                        let symbol = two ? text(i...(i + 1)) : text(i...i)
                        if SelfiesGrammar.organicSubset.contains(symbol) {
                            atom = SelfiesAtom(element: symbol)
                        } else if SelfiesGrammar.aromaticSubset.contains(symbol) {
                            throw fail(i, "aromatic atom '\(symbol)' (expected a kekulé SMILES)")
                        } else {
                            throw fail(i, "invalid atom symbol '\(symbol)'")
                        }
                        i += two ? 2 : 1
                    }
                    if atom.isAromatic { throw fail(i, "aromatic atom (expected a kekulé SMILES)") }
                    let prev = previous[previous.count - 1]
                    let index = graph.addAtom(atom, root: prev == nil)
                    if let prev {
                        let (order, stereo) = SelfiesGrammar.bond(bondChar)
                        graph.addBond(source: prev, target: index, order: order, stereo: stereo)
                    }
                    previous[previous.count - 1] = index
                    chainStart = false
                    atomsInFragment += 1
                    continue
                }
                if chainStart { throw fail(i, "SMILES chain begins with non-atom") }
                if s == UInt8(ascii: "(") || s == UInt8(ascii: ")") {
                    if bondChar != nil { throw fail(bondPosition, "hanging bond") }
                    if s == UInt8(ascii: "(") {
                        openBranches.append(i)
                        previous.append(previous[previous.count - 1])
                        chainStart = true
                    } else {
                        if openBranches.isEmpty { throw fail(i, "hanging ')' bracket") }
                        openBranches.removeLast()
                        previous.removeLast()
                    }
                    i += 1
                    continue
                }
                var label: String
                let start = i
                if isDigit(s) {
                    label = text(i...i)
                    i += 1
                } else if s == UInt8(ascii: "%") {
                    guard i + 2 < chars.count, isDigit(chars[i + 1]), isDigit(chars[i + 2]) else {
                        throw fail(i, "invalid ring number")
                    }
                    label = text(i...(i + 2))
                    i += 3
                } else {
                    throw fail(i, "unrecognized symbol '\(text(i...i))'")
                }
                guard let atom = previous[previous.count - 1] else { throw fail(start, "ring number without an atom") }
                if let open = ringLog.removeValue(forKey: label) {
                    ringOrder.removeAll { $0 == label }
                    if graph.hasBond(open.atom, atom) { throw fail(open.position, "ring bond specified between already-bonded atoms") }
                    var pair = (open.bond, bondChar)
                    if pair.0 == nil { pair = (pair.1, pair.0) }
                    let isStereo = { (c: Character) in c == "/" || c == "\\" }
                    let matches = pair.0 == pair.1 || pair.1 == nil
                        || (pair.0.map(isStereo) ?? false && pair.1.map(isStereo) ?? false)
                    if !matches { throw fail(open.position, "mismatched ring bonds") }
                    let left = SelfiesGrammar.bond(open.bond)
                    let right = SelfiesGrammar.bond(bondChar)
                    graph.addRingBond(
                        open.atom, atom, order: max(left.order, right.order), stereoA: left.stereo, stereoB: right.stereo,
                        positionA: open.slot, positionB: -1)
                } else {
                    let slot = graph.addPlaceholder(source: atom)
                    ringLog[label] = (bondChar, atom, slot, start)
                    ringOrder.append(label)
                }
            }
            if atomsInFragment == 0 { throw fail(max(0, i - 1), "empty SMILES fragment") }
            if let open = openBranches.last { throw fail(open, "hanging '(' bracket") }
            if let label = ringOrder.last, let open = ringLog[label] { throw fail(open.position, "hanging ring number '\(label)'") }
        }
        return graph
    }

    /// Parses the inside of `[...]`: isotope, element, chirality (@, @@), H count, charge, class.
    static func bracketAtom(_ body: String) -> SelfiesAtom? {
        let c = Array(body)
        var i = 0
        var isotope: Int?
        var digits = ""
        while i < c.count, c[i].isASCII, c[i].isNumber {
            digits.append(c[i])
            i += 1
        }
        if !digits.isEmpty { isotope = Int(digits) }
        guard i < c.count, c[i].isASCII, c[i].isLetter else { return nil }
        var element = String(c[i])
        i += 1
        if i < c.count, c[i].isASCII, c[i].isLowercase {
            element.append(c[i])
            i += 1
        }
        var chirality = ""
        while i < c.count, c[i] == "@", chirality.count < 2 {
            chirality.append("@")
            i += 1
        }
        var hydrogens = 0
        if i < c.count, c[i] == "H" {
            i += 1
            hydrogens = 1
            if i < c.count, c[i].isASCII, c[i].isNumber {
                hydrogens = Int(String(c[i]))!
                i += 1
            }
        }
        var charge = 0
        if i < c.count, c[i] == "+" || c[i] == "-" {
            let sign = c[i]
            var run = 0
            while i < c.count, c[i] == sign {
                run += 1
                i += 1
            }
            var number = ""
            while i < c.count, c[i].isASCII, c[i].isNumber {
                number.append(c[i])
                i += 1
            }
            if !number.isEmpty {
                guard run == 1, let value = Int(number) else { return nil }
                charge = value
            } else {
                charge = run
            }
            if sign == "-" { charge = -charge }
        }
        if i < c.count, c[i] == ":" {
            i += 1
            let start = i
            while i < c.count, c[i].isASCII, c[i].isNumber { i += 1 }
            if i == start { return nil }
        }
        guard i == c.count else { return nil }
        let isAromatic = element.first!.isLowercase && SelfiesGrammar.aromaticSubset.contains(element)
        let capitalized = element.prefix(1).uppercased() + element.dropFirst()
        guard SelfiesGrammar.elements.contains(capitalized) else { return nil }
        return SelfiesAtom(
            element: capitalized, isAromatic: isAromatic, isotope: isotope, chirality: chirality.isEmpty ? nil : chirality,
            hydrogens: hydrogens, charge: charge)
    }
}
