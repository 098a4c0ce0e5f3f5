import Foundation

/// DSSP 8-state secondary structure, letter for letter as mkdssp 4.2.2 assigns it (Kabsch & Sander
/// hydrogen-bond energies, bridges and ladders, 3₁₀/α/π helices with π preferred, turns, bends, and
/// κ-helices (polyproline II) of at least 3 residues).
///
/// mkdssp's choices that decide letters, kept here:
/// - residues: the polymer residues of the model whose N, CA, C and O all exist (per atom name the
///   *last* altloc record, since mkdssp overwrites as it reads), in chain order, each
///   microheterogeneity variant a residue of its own; a residue it does not read gets `?`;
///   "polymer" as mkdssp's reader decides it (mmCIF `_entity`, PDB `SequenceNumbering`);
/// - arithmetic in single precision for coordinates, distances and angles; the energy
///   `q1 q2 f (1/r_ON + 1/r_CH − 1/r_OH − 1/r_CN)` in double, rounded to 0.001 kcal/mol and clamped
///   at −9.9; a bond is an energy below −0.5 among the donor's two best acceptors;
/// - the amide H placed along the previous residue's C=O (the previous residue in the list, even
///   across a chain break); proline donates nothing; residue i+1 never donates to i;
/// - a chain break where C(i−1)–N(i) exceeds 2.5 Å or the chain changes.
/// Cost: O(residues) with a 9 Å cell grid for the Cα pairs (mkdssp compares every pair).
public enum SecondaryStructure {
    /// One letter per residue of each chain, aligned with the chain's residues: `H G I E B T S P`,
    /// `-` for none, `?` for a residue mkdssp does not read. `chains` come from `ChainExtractor` on
    /// `structure` (one string per chain; DSSP runs per model over all of its chains together).
    public static func assign(_ structure: StructureModel, chains: [ProteinChain]) -> [String] {
        var result = [String](repeating: "", count: chains.count)
        var start = 0
        while start < chains.count {
            var end = start
            while end < chains.count && chains[end].model == chains[start].model { end += 1 }
            let backbone = Backbone(structure, chains: chains[start..<end])
            var assignment = Assignment(backbone)
            let letters = assignment.letters()
            for c in start..<end {
                var text = [UInt8](repeating: UInt8(ascii: "?"), count: chains[c].count)
                for k in 0..<chains[c].count {
                    let slot = backbone.slot[c - start][k]
                    if slot >= 0 { text[k] = letters[Int(slot)] }
                }
                result[c] = String(decoding: text, as: UTF8.self)
            }
            start = end
        }
        return result
    }

    /// A point in single precision (mkdssp's `point`), with its operations in its evaluation order.
    struct Point {
        var x: Float, y: Float, z: Float
        static let zero = Point(x: 0, y: 0, z: 0)
        @inline(__always) static func - (a: Point, b: Point) -> Point { Point(x: a.x - b.x, y: a.y - b.y, z: a.z - b.z) }
        @inline(__always) func dot(_ b: Point) -> Float { x * b.x + y * b.y + z * b.z }
        @inline(__always) func cross(_ b: Point) -> Point {
            Point(x: y * b.z - b.y * z, y: z * b.x - b.z * x, z: x * b.y - b.x * y)
        }
        @inline(__always) func distance(_ b: Point) -> Float {
            let dx = x - b.x, dy = y - b.y, dz = z - b.z
            return (dx * dx + dy * dy + dz * dz).squareRoot()
        }
    }

    /// The residues DSSP reads (one model), in order, with their backbone atoms.
    struct Backbone {
        var n: [Point] = [], ca: [Point] = [], c: [Point] = [], o: [Point] = []
        var isProline: [Bool] = []
        /// Chain index within the model (mkdssp's asym id).
        var chain: [Int32] = []
        /// Position among the chain's polymer residues (mkdssp's label_seq_id, for κ).
        var ordinal: [Int32] = []
        /// Per chain, per chain residue: its index here, or −1 when DSSP does not read it.
        var slot: [[Int32]] = []

        init(_ s: StructureModel, chains: ArraySlice<ProteinChain>) {
            let proline = PackedName("PRO"), oxygen = PackedName("O")
            var alignments: [SequenceNumbering.Input: SequenceNumbering.Numbered?] = [:]
            for (chainIndex, protein) in chains.enumerated() {
                var slots = [Int32](repeating: -1, count: protein.count)
                defer { slot.append(slots) }
                guard let first = protein.residueIndices.first else { continue }
                // the structure chain holding the protein's residues: every residue of it, so that
                // microheterogeneity variants (skipped in the protein) are residues here, as in mkdssp
                var upper = s.chainResidueOffsets.count - 1, lower = 0
                while upper - lower > 1 {
                    let mid = (lower + upper) / 2
                    if s.chainResidueOffsets[mid] <= Int(first) { lower = mid } else { upper = mid }
                }
                let numbering = s.entitiesFromFile ? nil : SequenceNumbering(s, chain: lower, memo: &alignments)
                let chainStart = s.chainResidueOffsets[lower]
                var slotOf = [Int32](repeating: -1, count: s.chainResidueOffsets[lower + 1] - chainStart)
                var previous: (Int32, UInt8)? = nil
                var position: Int32 = -1
                for r in s.chainResidueOffsets[lower] ..< s.chainResidueOffsets[lower + 1] {
                    let entity = s.entityTypes[r]
                    guard entity == .polymer || entity == .unknown, !s.isOtherRecord[r] else { continue }
                    let seqid = (s.residueNumbers[r], s.insertionCodes[r])
                    if previous.map({ $0 != seqid }) ?? true { position += 1 }
                    previous = seqid
                    let name = s.residueNames[r]
                    // polymer as mkdssp's reader decides: the mmCIF `_entity` type, or PDB SEQRES
                    guard numbering?.isPolymer(s, residue: r) ?? (entity == .polymer) else { continue }
                    var pn = -1, pca = -1, pc = -1, po = -1
                    for a in s.residueAtomOffsets[r] ..< s.residueAtomOffsets[r + 1] {
                        switch s.atomNames[a] {
                        case .n: pn = a
                        case .ca: pca = a
                        case .c: pc = a
                        case oxygen: po = a
                        default: continue
                        }
                    }
                    guard pn >= 0, pca >= 0, pc >= 0, po >= 0 else { continue }
                    func point(_ a: Int) -> Point { Point(x: Float(s.x[a]), y: Float(s.y[a]), z: Float(s.z[a])) }
                    slotOf[r - chainStart] = Int32(n.count)
                    n.append(point(pn)); ca.append(point(pca)); c.append(point(pc)); o.append(point(po))
                    isProline.append(name == proline)
                    chain.append(Int32(chainIndex))
                    ordinal.append(position)
                }
                for k in 0..<protein.count { slots[k] = slotOf[Int(protein.residueIndices[k]) - chainStart] }
            }
        }

        var count: Int { n.count }
    }

    enum Helix: Int, CaseIterable { case threeTen = 0, alpha = 1, pi = 2
        var stride: Int { rawValue + 3 }
    }
    enum HelixFlag { case none, start, end, startAndEnd, middle }

    /// The assignment over one model's backbone.
    struct Assignment {
        static let minimalDistance: Float = 0.5
        static let minimalCADistance: Float = 9
        static let minHBondEnergy = Double(Float(-9.9))
        static let maxHBondEnergy = Double(Float(-0.5))
        static let couplingConstant = Double(Float(-27.888))   // −332 · 0.42 · 0.2
        static let maxPeptideBondLength: Float = 2.5
        /// Squared distances clearly outside (≥ 81.01) and clearly inside (< 80.99) the 9 Å Cα test.
        static let nearCutoffSquared: Float = 81.01, farInsideSquared: Float = 80.99

        let b: Backbone
        let count: Int
        /// mkdssp's residue numbers: +1 per residue, +1 more at a C–N gap (chain breaks).
        var number: [Int] = []
        var h: [Point] = []
        /// Per donor, its two best acceptors (index, energy); −1 when none.
        var acceptor: [(Int, Double, Int, Double)] = []
        var ss: [UInt8]

        init(_ backbone: Backbone) {
            b = backbone
            count = backbone.count
            ss = [UInt8](repeating: UInt8(ascii: "-"), count: count)
            var resNumber = 0
            number.reserveCapacity(count)
            for i in 0..<count {
                resNumber += 1
                if i > 0 && b.c[i - 1].distance(b.n[i]) > Self.maxPeptideBondLength { resNumber += 1 }
                number.append(resNumber)
            }
            h = b.n
            for i in 1..<max(count, 1) where !b.isProline[i] {
                let pc = b.c[i - 1], po = b.o[i - 1]
                let d = pc.distance(po)
                h[i].x += (pc.x - po.x) / d
                h[i].y += (pc.y - po.y) / d
                h[i].z += (pc.z - po.z) / d
            }
        }

        /// mkdssp's NoChainBreak: same chain and consecutive numbers from a to b.
        @inline(__always) func noChainBreak(_ a: Int, _ b2: Int) -> Bool {
            guard a <= b2, b.chain[a] == b.chain[b2] else { return false }
            return number[b2] - number[a] == b2 - a
        }

        @inline(__always) func testBond(_ donor: Int, _ acceptorIndex: Int) -> Bool {
            let e = acceptor[donor]
            return (e.0 == acceptorIndex && e.1 < Self.maxHBondEnergy) || (e.2 == acceptorIndex && e.3 < Self.maxHBondEnergy)
        }

        /// The Kabsch–Sander energy of the bond from donor (its N and H) to acceptor (its C and O).
        @inline(__always) static func energy(h hd: Point, n nd: Point, c ca: Point, o oa: Point) -> Double {
            let distanceHO = hd.distance(oa), distanceHC = hd.distance(ca)
            let distanceNC = nd.distance(ca), distanceNO = nd.distance(oa)
            var result: Double
            if distanceHO < minimalDistance || distanceHC < minimalDistance || distanceNC < minimalDistance
                || distanceNO < minimalDistance {
                result = minHBondEnergy
            } else {
                let k = couplingConstant
                result = k / Double(distanceHO) - k / Double(distanceHC) + k / Double(distanceNC) - k / Double(distanceNO)
            }
            result = (result * 1000).rounded() / 1000
            return result < minHBondEnergy ? minHBondEnergy : result
        }

        /// Each donor's two best acceptors over the residues whose Cα lies within 9 Å. mkdssp updates
        /// them visiting partners in increasing index with strict comparisons, which keeps the two
        /// lowest (energy, index) pairs whatever the order: so partners are taken as the cell grid
        /// yields them, ties settled by the index.
        mutating func hydrogenBonds() {
            acceptor = [(Int, Double, Int, Double)](repeating: (-1, 0, -1, 0), count: count)
            guard count > 1 else { return }
            var positions = [Double](repeating: 0, count: 3 * count)
            for i in 0..<count {
                positions[3 * i] = Double(b.ca[i].x); positions[3 * i + 1] = Double(b.ca[i].y); positions[3 * i + 2] = Double(b.ca[i].z)
            }
            let grid = CellGrid(positions: positions, cellSize: Double(Self.minimalCADistance))
            let binned = grid.order.count
            // Cα in cell order, so that the points of a run of cells are contiguous
            let sx = UnsafeMutablePointer<Float>.allocate(capacity: max(binned, 1))
            let sy = UnsafeMutablePointer<Float>.allocate(capacity: max(binned, 1))
            let sz = UnsafeMutablePointer<Float>.allocate(capacity: max(binned, 1))
            let near = UnsafeMutablePointer<Int32>.allocate(capacity: max(binned, 1))
            var runs = ResidueGraphs.RunList()
            defer { sx.deallocate(); sy.deallocate(); sz.deallocate(); near.deallocate(); runs.deallocate() }
            let b = self.b, h = self.h
            acceptor.withUnsafeMutableBufferPointer { best in
            b.ca.withUnsafeBufferPointer { ca in b.n.withUnsafeBufferPointer { n in b.c.withUnsafeBufferPointer { c in
            b.o.withUnsafeBufferPointer { o in h.withUnsafeBufferPointer { h in b.isProline.withUnsafeBufferPointer { proline in
            grid.withTables { order, start, cellOf in
                for s in 0..<binned {
                    let p = ca[Int(order[s])]
                    sx[s] = p.x; sy[s] = p.y; sz[s] = p.z
                }
                for i in 0..<count where cellOf[i] >= 0 && !proline[i] {   // proline donates nothing (energy 0)
                    let (cx, cy, cz) = grid.coordinates(cellOf[i])
                    let xi = ca[i].x, yi = ca[i].y, zi = ca[i].z
                    // candidates of the 27 cells around i, kept without a branch when clearly not outside
                    var found = 0
                    for shell in 0...1 {
                        let runCount = grid.shellRuns(cx, cy, cz, shell, start: start, into: &runs)
                        for r in 0..<runCount {
                            for s in runs.lower(r) ..< runs.upper(r) {
                                let dx = xi - sx[s], dy = yi - sy[s], dz = zi - sz[s]
                                near[found] = Int32(truncatingIfNeeded: s)
                                found &+= dx * dx + dy * dy + dz * dz < Self.nearCutoffSquared ? 1 : 0
                            }
                        }
                    }
                    let hi = h[i], ni = n[i]
                    var top = (-1, 0.0, -1, 0.0)
                    for q in 0..<found {
                        let s = Int(near[q]), j = Int(order[s])
                        guard j != i, j != i - 1 else { continue }
                        // mkdssp's test, the square root only near the cutoff
                        let dx = xi - sx[s], dy = yi - sy[s], dz = zi - sz[s]
                        let squared = dx * dx + dy * dy + dz * dz
                        guard squared < Self.farInsideSquared || squared.squareRoot() < Self.minimalCADistance else { continue }
                        let e = Self.energy(h: hi, n: ni, c: c[j], o: o[j])
                        if e < top.1 || (e == top.1 && top.0 >= 0 && j < top.0) {
                            top = (j, e, top.0, top.1)
                        } else if e < top.3 || (e == top.3 && top.2 >= 0 && j < top.2) {
                            top.2 = j; top.3 = e
                        }
                    }
                    best[i] = top
                }
            }}}}}}}}
        }

        enum BridgeType { case parallel, antiParallel }
        struct Bridge {
            var type: BridgeType
            var i: [UInt32], j: [UInt32]
            var chain: Int32
        }

        func testBridge(_ i: Int, _ j: Int) -> BridgeType? {
            let a = i - 1, bb = i, c = i + 1, d = j - 1, e = j, f = j + 1
            guard a >= 0, f < count, noChainBreak(a, c), noChainBreak(d, f) else { return nil }
            if (testBond(c, e) && testBond(e, a)) || (testBond(f, bb) && testBond(bb, d)) { return .parallel }
            if (testBond(c, d) && testBond(f, a)) || (testBond(e, bb) && testBond(bb, e)) { return .antiParallel }
            return nil
        }

        /// Bridges and ladders (E, B), as mkdssp's CalculateBetaSheets: only pairs (i, j) with one of
        /// the four bonds a bridge starts from are tested, in mkdssp's (i, j) order.
        mutating func betaSheets() {
            // who bonds to whom: donors per acceptor as one table (CSR: donors[start[y] ..< start[y+1]])
            var start = [Int](repeating: 0, count: count + 1)
            for x in 0..<count {
                let e = acceptor[x]
                if e.0 >= 0 && e.1 < Self.maxHBondEnergy { start[e.0 + 1] += 1 }
                if e.2 >= 0 && e.3 < Self.maxHBondEnergy { start[e.2 + 1] += 1 }
            }
            for y in 0..<count { start[y + 1] += start[y] }
            var donors = [Int](repeating: 0, count: start[count])
            var fill = start
            for x in 0..<count {
                let e = acceptor[x]
                if e.0 >= 0 && e.1 < Self.maxHBondEnergy { donors[fill[e.0]] = x; fill[e.0] += 1 }
                if e.2 >= 0 && e.3 < Self.maxHBondEnergy { donors[fill[e.2]] = x; fill[e.2] += 1 }
            }
            var bridges: [Bridge] = []
            var candidates: [Int] = []
            var i = 1
            while i + 4 < count {
                candidates.removeAll(keepingCapacity: true)
                let e = acceptor[i + 1]
                if e.0 >= 0 && e.1 < Self.maxHBondEnergy { candidates.append(e.0); candidates.append(e.0 + 1) }
                if e.2 >= 0 && e.3 < Self.maxHBondEnergy { candidates.append(e.2); candidates.append(e.2 + 1) }
                for k in start[i] ..< start[i + 1] { candidates.append(donors[k]); candidates.append(donors[k] - 1) }
                candidates.sort()
                var previous = -1
                for j in candidates where j != previous {
                    previous = j
                    guard j >= i + 3, j + 1 < count, let type = testBridge(i, j) else { continue }
                    let ui = UInt32(i), uj = UInt32(j)
                    var found = false
                    for k in bridges.indices where bridges[k].type == type && ui == bridges[k].i.last! &+ 1 {
                        if type == .parallel && bridges[k].j.last! &+ 1 == uj {
                            bridges[k].i.append(ui); bridges[k].j.append(uj); found = true; break
                        }
                        if type == .antiParallel && bridges[k].j.first! &- 1 == uj {
                            bridges[k].i.append(ui); bridges[k].j.insert(uj, at: 0); found = true; break
                        }
                    }
                    if !found { bridges.append(Bridge(type: type, i: [ui], j: [uj], chain: b.chain[i])) }
                }
                i += 1
            }
            // extend ladders across bulges
            bridges = bridges.enumerated().sorted {
                ($0.element.chain, $0.element.i[0], $0.offset) < ($1.element.chain, $1.element.i[0], $1.offset)
            }.map(\.element)
            var p = 0
            while p < bridges.count {
                var q = p + 1
                while q < bridges.count {
                    let ibi = bridges[p].i.first!, iei = bridges[p].i.last!, jbi = bridges[p].j.first!, jei = bridges[p].j.last!
                    let ibj = bridges[q].i.first!, iej = bridges[q].i.last!, jbj = bridges[q].j.first!, jej = bridges[q].j.last!
                    if bridges[p].type != bridges[q].type
                        || !noChainBreak(Int(min(ibi, ibj)), Int(max(iei, iej)))
                        || !noChainBreak(Int(min(jbi, jbj)), Int(max(jei, jej)))
                        || ibj &- iei >= 6 || (iei >= ibj && ibi <= iej) {
                        q += 1
                        continue
                    }
                    let bulge = bridges[p].type == .parallel
                        ? ((jbj &- jei < 6 && ibj &- iei < 3) || jbj &- jei < 3)
                        : ((jbi &- jej < 6 && ibj &- iei < 3) || jbi &- jej < 3)
                    if bulge {
                        bridges[p].i.append(contentsOf: bridges[q].i)
                        if bridges[p].type == .parallel { bridges[p].j.append(contentsOf: bridges[q].j) }
                        else { bridges[p].j.insert(contentsOf: bridges[q].j, at: 0) }
                        bridges.remove(at: q)
                    } else {
                        q += 1
                    }
                }
                p += 1
            }
            let strand = UInt8(ascii: "E"), bridge = UInt8(ascii: "B")
            for ladder in bridges {
                let letter = ladder.i.count > 1 ? strand : bridge
                for side in [ladder.i, ladder.j] where side.first! <= side.last! {
                    for r in Int(side.first!)...Int(side.last!) where ss[r] != strand { ss[r] = letter }
                }
            }
        }

        mutating func helices() {
            var flags = [[HelixFlag]](repeating: [HelixFlag](repeating: .none, count: count), count: 3)
            for helix in Helix.allCases {
                let stride = helix.stride, t = helix.rawValue
                var i = 0
                while i + stride < count {
                    if noChainBreak(i, i + stride) && testBond(i + stride, i) {
                        flags[t][i + stride] = .end
                        for j in (i + 1)..<(i + stride) where flags[t][j] == .none { flags[t][j] = .middle }
                        flags[t][i] = flags[t][i] == .end ? .startAndEnd : .start
                    }
                    i += 1
                }
            }
            func isStart(_ helix: Helix, _ i: Int) -> Bool {
                let f = flags[helix.rawValue][i]
                return f == .start || f == .startAndEnd
            }
            let loop = UInt8(ascii: "-"), alpha = UInt8(ascii: "H"), threeTen = UInt8(ascii: "G"), pi = UInt8(ascii: "I")
            var i = 1
            while i + 4 < count {
                if isStart(.alpha, i) && isStart(.alpha, i - 1) { for j in i...(i + 3) { ss[j] = alpha } }
                i += 1
            }
            i = 1
            while i + 3 < count {
                if isStart(.threeTen, i) && isStart(.threeTen, i - 1)
                    && (i...(i + 2)).allSatisfy({ ss[$0] == loop || ss[$0] == threeTen }) {
                    for j in i...(i + 2) { ss[j] = threeTen }
                }
                i += 1
            }
            i = 1
            while i + 5 < count {
                if isStart(.pi, i) && isStart(.pi, i - 1)
                    && (i...(i + 4)).allSatisfy({ ss[$0] == loop || ss[$0] == pi || ss[$0] == alpha }) {
                    for j in i...(i + 4) { ss[j] = pi }
                }
                i += 1
            }
            let kappa = self.kappa()
            i = 1
            while i + 1 < count {
                if ss[i] == loop {
                    var isTurn = false
                    for helix in Helix.allCases where !isTurn {
                        for k in 1..<helix.stride where !isTurn { isTurn = i >= k && isStart(helix, i - k) }
                    }
                    if isTurn { ss[i] = UInt8(ascii: "T") }
                    else if kappa[i] != 360 && kappa[i] > 70 { ss[i] = UInt8(ascii: "S") }
                }
                i += 1
            }
        }

        /// κ, the Cα virtual bond angle at i over i−2…i+2 (360 where undefined).
        func kappa() -> [Float] {
            var kappa = [Float](repeating: 360, count: count)
            guard count >= 5 else { return kappa }
            for i in 2..<(count - 2) where noChainBreak(i - 2, i + 2) && b.ordinal[i - 2] + 4 == b.ordinal[i + 2] {
                let ckap = SecondaryStructure.cosineAngle(b.ca[i], b.ca[i - 2], b.ca[i + 2], b.ca[i])
                let skap = (1 - ckap * ckap).squareRoot()
                kappa[i] = atan2f(skap, ckap) * Float(180 / Double.pi)
            }
            return kappa
        }

        /// Polyproline II (κ-helix, `P`): runs of 3 residues with φ in −75 ± 29° and ψ in 145 ± 29°.
        mutating func polyproline() {
            guard count >= 4 else { return }
            let epsilon: Float = 29
            let phiRange = (-75 - epsilon)...(-75 + epsilon), psiRange = (145 - epsilon)...(145 + epsilon)
            var phi = [Float](repeating: 0, count: count), psi = [Float](repeating: 0, count: count)
            for i in 1..<(count - 1) {
                phi[i] = noChainBreak(i - 1, i) ? SecondaryStructure.dihedral(b.c[i - 1], b.n[i], b.ca[i], b.c[i]) : 360
                psi[i] = noChainBreak(i, i + 1) ? SecondaryStructure.dihedral(b.n[i], b.ca[i], b.c[i], b.n[i + 1]) : 360
            }
            var i = 1
            while i + 3 < count {
                if (i...(i + 2)).allSatisfy({ phiRange.contains(phi[$0]) && psiRange.contains(psi[$0]) }) {
                    for j in i...(i + 2) where ss[j] == UInt8(ascii: "-") { ss[j] = UInt8(ascii: "P") }
                }
                i += 1
            }
        }

        mutating func letters() -> [UInt8] {
            guard count > 0 else { return [] }
            hydrogenBonds()
            betaSheets()
            helices()
            polyproline()
            return ss
        }
    }

    /// mkdssp's dihedral angle in degrees (360 when undefined), single precision.
    static func dihedral(_ p1: Point, _ p2: Point, _ p3: Point, _ p4: Point) -> Float {
        let v12 = p1 - p2, v43 = p4 - p3, z = p2 - p3
        let p = z.cross(v12), x = z.cross(v43), y = z.cross(x)
        var u = x.dot(x), v = y.dot(y)
        var result: Float = 360
        if u > 0 && v > 0 {
            u = p.dot(x) / u.squareRoot()
            v = p.dot(y) / v.squareRoot()
            if u != 0 || v != 0 { result = atan2f(v, u) * 180 / Float(Double.pi) }
        }
        return result
    }

    /// mkdssp's cosine of the angle between p1−p2 and p3−p4, single precision.
    static func cosineAngle(_ p1: Point, _ p2: Point, _ p3: Point, _ p4: Point) -> Float {
        let v12 = p1 - p2, v34 = p3 - p4
        let x = v12.dot(v12) * v34.dot(v34)
        return x > 0 ? v12.dot(v34) / x.squareRoot() : 0
    }
}
