/// The SELFIES decoder (selfies 2.x `decoder(..., attribute=True)`): derives the molecular graph
/// symbol by symbol under the default constraints, forms ring bonds at the end, and writes SMILES
/// with, per output token, the index of the SELFIES symbol that produced it.
///
/// Attribution indices count the symbols of all fragments together, skipping `.` and `[nop]`
/// (as the reference does; the 3D-MolT5 tokenizer then uses them as positions in the token list,
/// which includes `.`). Complexity O(symbols).
public struct SelfiesDecoder {
    /// The decoded SMILES (selfies' own writer, not canonical).
    public let smiles: String
    /// Per non-empty output SMILES token, its last attribution index; nil for ring-bond tokens
    /// (the reference has no attribution for them).
    public let attributions: [Int?]

    /// The reference's token↔atom alignment: the last attribution index of every output token,
    /// duplicates removed in order (one SELFIES symbol index per decoded atom), or nil when a
    /// token has no attribution (the reference's `attribution_fail`).
    public var atomTokenIndices: [Int]? {
        var seen = Set<Int>()
        var result: [Int] = []
        for attribution in attributions {
            guard let index = attribution else { return nil }
            if seen.insert(index).inserted { result.append(index) }
        }
        return result
    }

    private struct Ring {
        var left: Int
        var right: Int
        var order: Int
        var stereo: (Character?, Character?)
    }

    public init(_ selfies: String) throws(SelfiesError) {
        try self.init(fragments: selfies.split(separator: ".", omittingEmptySubsequences: false).map { Selfies.split(String($0)) }, selfies: selfies)
    }

    /// Decodes the symbols `Selfies.split` gave for a SELFIES string whose fragments are each
    /// non-empty (what the encoder writes): the list is cut at its `.` entries instead of splitting
    /// the string again.
    init(symbols: [String], selfies: String) throws(SelfiesError) {
        var fragments: [[String]] = [[]]
        for symbol in symbols {
            if symbol == "." { fragments.append([]) } else { fragments[fragments.count - 1].append(symbol) }
        }
        try self.init(fragments: fragments, selfies: selfies)
    }

    private init(fragments: [[String]], selfies: String) throws(SelfiesError) {
        var graph = SelfiesGraph()
        var rings: [Ring] = []
        var offset = 0
        for fragment in fragments {
            let symbols = fragment.filter { $0 != "[nop]" }
            var cursor = 0
            let derived = try Self.derive(
                symbols, cursor: &cursor, graph: &graph, rings: &rings, selfies: selfies, maxDerive: Int.max,
                state: 0, root: nil, offset: offset)
            offset += derived
        }
        // Ring bonds are formed once every atom exists.
        var ringsMade = [Int](repeating: 0, count: graph.atoms.count)
        for ring in rings where ring.left != ring.right {
            let leftFree = Double(graph.atoms[ring.left].bondingCapacity) - graph.bondCounts[ring.left]
            let rightFree = Double(graph.atoms[ring.right].bondingCapacity) - graph.bondCounts[ring.right]
            if leftFree <= 0 || rightFree <= 0 { continue }
            let order = min(Double(ring.order), leftFree, rightFree)
            if graph.hasBond(ring.left, ring.right) {
                let existing = graph.bond(from: min(ring.left, ring.right), to: max(ring.left, ring.right))?.order ?? 0
                graph.updateBondOrder(ring.left, ring.right, to: min(order + existing, 3))
            } else {
                graph.addRingBond(
                    ring.left, ring.right, order: order, stereoA: ring.stereo.0, stereoB: ring.stereo.1,
                    positionA: ringsMade[ring.left], positionB: ringsMade[ring.right])
                ringsMade[ring.left] += 1
                ringsMade[ring.right] += 1
            }
        }
        (smiles, attributions) = graph.smilesWithAttribution()
    }

    /// One derivation run (selfies' `_derive_mol_from_symbols`); returns the symbols consumed.
    private static func derive(
        _ symbols: [String], cursor: inout Int, graph: inout SelfiesGraph, rings: inout [Ring], selfies: String,
        maxDerive: Int, state initial: Int, root: Int?, offset: Int
    ) throws(SelfiesError) -> Int {
        var derived = 0
        var state: Int? = initial
        var previous = root
        while let current = state, derived < maxDerive {
            guard cursor < symbols.count else { break }
            let index = cursor
            let symbol = symbols[cursor]
            cursor += 1
            derived += 1
            var nextState: Int?
            switch Self.symbolTable[symbol] ?? Self.classify(symbol) {
            case .invalid:
                throw SelfiesError.symbol(selfies: selfies, symbol: symbol)
            case let .branch(branchOrder, length):
                if current <= 1 {
                    nextState = current
                } else {
                    let branchState = min(current - 1, branchOrder)
                    nextState = current - branchState
                    let q = readIndex(symbols, cursor: &cursor, count: length)
                    derived += length
                    derived += try derive(
                        symbols, cursor: &cursor, graph: &graph, rings: &rings, selfies: selfies, maxDerive: q + 1,
                        state: branchState, root: previous, offset: offset)
                }
            case let .ring(ringOrder, length, stereo):
                if current == 0 {
                    nextState = current
                } else {
                    let order = min(ringOrder, current)
                    nextState = current - order == 0 ? nil : current - order
                    let q = readIndex(symbols, cursor: &cursor, count: length)
                    derived += length
                    if let right = previous {
                        rings.append(Ring(left: max(0, right - (q + 1)), right: right, order: order, stereo: stereo))
                    }
                }
            case .epsilon:
                nextState = current == 0 ? 0 : nil
            case let .atom(bondOrder, stereo, atom, capacity):
                let order = current == 0 ? 0 : min(bondOrder, current, capacity)
                let left = capacity - order
                nextState = left == 0 ? nil : left
                if order == 0 {
                    if current == 0 {
                        previous = graph.addAtom(atom, root: true, attribution: index + offset)
                    } else {
                        previous = nil
                    }
                } else if let source = previous {
                    let target = graph.addAtom(atom, root: false, attribution: index + offset)
                    graph.addBond(source: source, target: target, order: Double(order), stereo: stereo, attribution: index + offset)
                    previous = target
                }
            }
            state = nextState
        }
        while derived < maxDerive, cursor < symbols.count {
            cursor += 1
            derived += 1
        }
        return derived
    }

    private static func readIndex(_ symbols: [String], cursor: inout Int, count: Int) -> Int {
        var run: [String?] = []
        for _ in 0..<count {
            if cursor < symbols.count {
                run.append(symbols[cursor])
                cursor += 1
            } else {
                run.append(nil)
            }
        }
        return SelfiesGrammar.index(of: run)
    }

    /// `[Branch1]` … `[#Branch3]` → (bond order, index length).
    private static let branchSymbols: [String: (Int, Int)] = {
        var table: [String: (Int, Int)] = [:]
        for length in 1...3 {
            for (order, char) in [(1, ""), (2, "="), (3, "#")] { table["[\(char)Branch\(length)]"] = (order, length) }
        }
        return table
    }()

    /// `[Ring1]` … `[#Ring3]`, `[-/Ring1]` … → (bond order, index length, (left, right) stereo).
    private static let ringSymbols: [String: (Int, Int, (Character?, Character?))] = {
        var table: [String: (Int, Int, (Character?, Character?))] = [:]
        for length in 1...3 {
            for (order, char) in [(1, ""), (2, "="), (3, "#")] { table["[\(char)Ring\(length)]"] = (order, length, (nil, nil)) }
            for left in ["-", "/", "\\"] {
                for right in ["-", "/", "\\"] where !(left == "-" && right == "-") {
                    let l: Character? = left == "-" ? nil : Character(left)
                    let r: Character? = right == "-" ? nil : Character(right)
                    table["[\(left)\(right)Ring\(length)]"] = (1, length, (l, r))
                }
            }
        }
        return table
    }()

    /// What a symbol does in the derivation.
    enum SymbolKind {
        case branch(order: Int, length: Int)
        case ring(order: Int, length: Int, stereo: (Character?, Character?))
        case epsilon
        case atom(order: Int, stereo: Character?, atom: SelfiesAtom, capacity: Int)
        case invalid
    }

    /// Every symbol of the bundled 3D-MolT5 vocabulary (the tokenizer only decodes SELFIES whose
    /// symbols are all in its vocabulary), classified once per process: no parsing or locking per
    /// symbol. Other symbols are classified when met.
    static let symbolTable: [String: SymbolKind] = {
        var table: [String: SymbolKind] = [:]
        for symbol in MolT5Vocabulary.bundled.ids.keys { table[symbol] = classify(symbol) }
        return table
    }()

    /// selfies' order of tests: `…ch]` branch, `…ng]` ring, anything with `eps`, else an atom.
    static func classify(_ symbol: String) -> SymbolKind {
        let bytes = Array(symbol.utf8)
        let n = bytes.count
        if n >= 4 && bytes[n - 4] == UInt8(ascii: "c") && bytes[n - 3] == UInt8(ascii: "h") {
            guard let (order, length) = branchSymbols[symbol] else { return .invalid }
            return .branch(order: order, length: length)
        }
        if n >= 4 && bytes[n - 4] == UInt8(ascii: "n") && bytes[n - 3] == UInt8(ascii: "g") {
            guard let (order, length, stereo) = ringSymbols[symbol] else { return .invalid }
            return .ring(order: order, length: length, stereo: stereo)
        }
        if n >= 3 && (0...(n - 3)).contains(where: { bytes[$0] == UInt8(ascii: "e") && bytes[$0 + 1] == UInt8(ascii: "p") && bytes[$0 + 2] == UInt8(ascii: "s") }) {
            return .epsilon
        }
        guard let (order, stereo, atom) = parseAtomSymbol(symbol) else { return .invalid }
        return .atom(order: order, stereo: stereo, atom: atom, capacity: atom.bondingCapacity)
    }

    /// Parses an atom symbol `[` bond? isotope? element chirality? (H n)? (±n)? `]`.
    private static func parseAtomSymbol(_ symbol: String) -> (order: Int, stereo: Character?, atom: SelfiesAtom)? {
        let c = Array(symbol)
        guard c.count >= 3, c.first == "[", c.last == "]" else { return nil }
        var i = 1
        var bondChar: Character?
        if "=#/\\".contains(c[i]) {
            bondChar = c[i]
            i += 1
        }
        let body = String(c[i..<(c.count - 1)])
        var order = 1
        if bondChar == "=" { order = 2 } else if bondChar == "#" { order = 3 }
        let stereo: Character? = (bondChar == "/" || bondChar == "\\") ? bondChar : nil
        // Syntax check: isotope digits, element, @{0,2}, optional H + one digit, optional ±[1-9]+.
        var j = i
        while j < c.count - 1, c[j].isASCII, c[j].isNumber { j += 1 }
        let isotopeText = String(c[i..<j])
        guard j < c.count - 1, c[j].isASCII, c[j].isUppercase else { return nil }
        var element = String(c[j])
        j += 1
        if j < c.count - 1, c[j].isASCII, c[j].isLowercase {
            element.append(c[j])
            j += 1
        }
        var chirality = ""
        while j < c.count - 1, c[j] == "@", chirality.count < 2 {
            chirality.append("@")
            j += 1
        }
        var hydrogens = 0
        if j < c.count - 1, c[j] == "H" {
            guard j + 1 < c.count - 1, c[j + 1].isASCII, c[j + 1].isNumber else { return nil }
            hydrogens = Int(String(c[j + 1]))!
            j += 2
        }
        var charge = 0
        if j < c.count - 1, c[j] == "+" || c[j] == "-" {
            let negative = c[j] == "-"
            j += 1
            var digits = ""
            while j < c.count - 1, c[j].isASCII, ("1"..."9").contains(c[j]) {
                digits.append(c[j])
                j += 1
            }
            guard let value = Int(digits) else { return nil }
            charge = negative ? -value : value
        }
        guard j == c.count - 1 else { return nil }
        var atom: SelfiesAtom
        if SelfiesGrammar.organicSubset.contains(body) {
            atom = SelfiesAtom(element: element)
        } else {
            guard SelfiesGrammar.elements.contains(element) else { return nil }
            atom = SelfiesAtom(
                element: element, isotope: isotopeText.isEmpty ? nil : Int(isotopeText),
                chirality: chirality.isEmpty ? nil : chirality, hydrogens: hydrogens, charge: charge)
        }
        if atom.bondingCapacity < 0 { return nil }
        return (order, stereo, atom)
    }
}
