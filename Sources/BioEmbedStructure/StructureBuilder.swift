/// Assembles a `StructureModel` from atom records arriving in file order.
///
/// Models are opened in file order; inside a model a chain *part* starts whenever the chain id
/// changes, and parts with the same id are merged into the first chain of that id (gemmi's
/// `merge_chain_parts`). Inside a part, atoms with the same (number, insertion code, name, PDB
/// segment id) join one residue even when not consecutive (gemmi's residue map).
///
/// Atoms are appended into `AtomColumns` with the residue each belongs to; residues are kept in
/// creation order with their chain. `build` copies the columns out once, reordering only when the
/// file was out of order (a chain split by another chain, a residue's atoms interleaved with
/// another's); residue tables of ordinary files are handed over without a copy. The residue map of a
/// part is built only when a residue key is not beyond the part's last one (residue numbers going
/// back, insertion codes), so files numbered upwards need no hash lookups. Cost: O(atoms).
struct StructureBuilder: ~Copyable {
    struct ResidueKey: Hashable {
        var number: Int32
        var icode: UInt8
        var name: UInt32
        /// PDB segment id (columns 73–76), 0 when blank (and for mmCIF).
        var segment: UInt32 = 0
    }

    struct ModelDraft {
        var number: Int
        /// Global indices of this model's chains are `firstChain ..< firstChain + chainCount`.
        var firstChain: Int
        var chainIndex: [PackedName: Int] = [:]
    }

    private(set) var models: [ModelDraft] = []
    // Chains (global, in creation order; models' chains are contiguous)
    private var chainNames: [PackedName] = []
    private var chainFirstResidue: [Int32] = []
    // Residues in creation order
    private var residueNames: [PackedName] = []
    private var residueNumbers: [Int32] = []
    private var insertionCodes: [UInt8] = []
    private var isHetero: [Bool] = []
    /// Per residue: bit 1 a carbon atom named CA was seen, bit 2 a non-carbon one (PDB elements),
    /// bit 4 the residue's first atom came from neither an ATOM nor a HETATM record.
    private var residueFlags: [UInt8] = []
    private var entityTypes: [EntityType] = []
    private var residueChain: [Int32] = []
    private var residueSegments: [UInt32] = []
    // Atoms in file order
    private var atoms: AtomColumns

    /// Current chain (global index) and residue (creation index), -1 if none.
    private(set) var currentChain = -1
    private(set) var currentResidue = -1
    private var currentChainName = PackedName(raw: 0)
    /// First residue (creation index) of the current part.
    private var partStart = 0
    private var residueMap: [ResidueKey: Int32] = [:]
    private var mapBuilt = false
    private var lastKey = ResidueKey(number: .min, icode: 0, name: 0)

    /// `expectedAtoms`: a capacity hint (the tables grow past it as needed).
    init(expectedAtoms: Int = 0) {
        atoms = AtomColumns(capacity: expectedAtoms)
    }

    var hasModel: Bool { !models.isEmpty }

    /// Whether the current chain has no residue yet.
    var currentChainIsEmpty: Bool { currentChain < 0 || chainFirstResidue[currentChain] < 0 }

    mutating func beginModel(_ number: Int) {
        models.append(ModelDraft(number: number, firstChain: chainNames.count))
        endPart()
    }

    /// Forces the next atom to start a new chain part (PDB `TER` with chain splitting, model change).
    mutating func endPart() {
        currentChain = -1
        currentResidue = -1
        startPart()
    }

    private mutating func startPart() {
        partStart = residueNames.count
        if mapBuilt { residueMap.removeAll(keepingCapacity: true) }
        mapBuilt = false
        lastKey = ResidueKey(number: .min, icode: 0, name: 0)
    }

    /// Whether a chain of this id already exists in the current model, and its first residue's
    /// entity type.
    func existingChainFirstEntity(_ name: PackedName) -> EntityType? {
        guard let model = models.last, let index = model.chainIndex[name] else { return nil }
        let first = chainFirstResidue[index]
        return first >= 0 ? entityTypes[Int(first)] : nil
    }

    /// Switches to chain `name` (a new part if it differs from the current one). Returns true
    /// when a new part was started.
    @discardableResult
    mutating func selectChain(_ name: PackedName) -> Bool {
        if currentChain >= 0 && name == currentChainName { return false }
        if models.isEmpty { beginModel(1) }
        let m = models.count - 1
        if let index = models[m].chainIndex[name] {
            currentChain = index
        } else {
            currentChain = chainNames.count
            chainNames.append(name)
            chainFirstResidue.append(-1)
            models[m].chainIndex[name] = currentChain
        }
        currentChainName = name
        currentResidue = -1
        startPart()
        return true
    }

    /// Selects (or creates) the residue of the current chain part; returns true when created.
    @discardableResult
    /// `otherRecord`: the atom's record is neither ATOM nor HETATM (mmCIF `group_PDB`); like `het`
    /// and `entity`, it counts for the residue's first atom only.
    mutating func selectResidue(number: Int32, icode: UInt8, name: PackedName, het: Bool, entity: EntityType, segment: UInt32 = 0,
                                otherRecord: Bool = false) -> Bool {
        let key = ResidueKey(number: number, icode: icode, name: name.raw, segment: segment)
        if currentResidue >= 0 && key == lastKey { return false }
        let ascending = currentResidue < 0 ? residueNames.count == partStart : number > lastKey.number
        if !ascending || mapBuilt {
            if !mapBuilt {
                for r in partStart ..< residueNames.count {
                    let k = ResidueKey(number: residueNumbers[r], icode: insertionCodes[r], name: residueNames[r].raw, segment: residueSegments[r])
                    if residueMap[k] == nil { residueMap[k] = Int32(r) }
                }
                mapBuilt = true
            }
            if let index = residueMap[key] {
                lastKey = key
                currentResidue = Int(index)
                return false
            }
        }
        lastKey = key
        let index = residueNames.count
        residueNames.append(name)
        residueNumbers.append(number)
        insertionCodes.append(icode)
        isHetero.append(het)
        residueFlags.append(otherRecord ? 4 : 0)
        entityTypes.append(entity)
        residueChain.append(Int32(currentChain))
        residueSegments.append(segment)
        if chainFirstResidue[currentChain] < 0 { chainFirstResidue[currentChain] = Int32(index) }
        if mapBuilt { residueMap[key] = Int32(index) }
        currentResidue = index
        return true
    }

    /// `caElement`: for an atom named CA, 1 when its element is carbon, 2 when it is not (0: not
    /// known, or not a CA).
    mutating func addAtom(name: PackedName, altloc: UInt8, occupancy: Float, bFactor: Float = .nan, x: Double, y: Double, z: Double, line: Int,
                          caElement: UInt8 = 0) {
        if caElement != 0 { residueFlags[currentResidue] |= caElement }
        atoms.append(name: name, altloc: altloc, occupancy: occupancy, bFactor: bFactor, x: x, y: y, z: z,
                     line: Int32(truncatingIfNeeded: line), residue: Int32(truncatingIfNeeded: currentResidue))
    }

    /// Sets the entity type of the residues of the current chain part; returns whether any of
    /// them is a water.
    mutating func markCurrentPart(_ entity: EntityType, waterCheck: (PackedName) -> Bool) -> Bool {
        guard currentChain >= 0 else { return false }
        var sawWater = false
        for r in partStart ..< residueNames.count {
            entityTypes[r] = entity
            if waterCheck(residueNames[r]) { sawWater = true }
        }
        return sawWater
    }

    /// The residues created so far in chain `name` of the first model (0 when it has none).
    func residueCountInFirstModel(chain name: PackedName) -> Int {
        guard let chain = models.first?.chainIndex[name] else { return 0 }
        return residueChain.reduce(0) { $0 + ($1 == Int32(chain) ? 1 : 0) }
    }

    mutating func setAllEntities(_ entity: EntityType) {
        for r in entityTypes.indices { entityTypes[r] = entity }
    }

    /// The struct-of-arrays model: chains of a model in order of first appearance, a chain's
    /// residues in order of first appearance, a residue's atoms in file order.
    consuming func build(modelCountInFile: Int) -> StructureModel {
        var s = StructureModel()
        let atomCount = atoms.count
        let atomResidue = atoms.residues
        s.modelCountInFile = modelCountInFile
        let chainCount = chainNames.count
        let residueCount = residueNames.count
        // Residue order: stable by chain (a no-op when chains come one after another).
        var inChainOrder = true
        for r in 1 ..< max(residueCount, 1) where residueChain[r] < residueChain[r - 1] { inChainOrder = false; break }
        var residueOffsetOfChain = [Int](repeating: 0, count: chainCount + 1)
        for r in 0 ..< residueCount { residueOffsetOfChain[Int(residueChain[r]) + 1] += 1 }
        for c in 0 ..< chainCount { residueOffsetOfChain[c + 1] += residueOffsetOfChain[c] }
        var rank: [Int32] = []     // creation index → output index (empty: identity)
        if !inChainOrder {
            rank = [Int32](repeating: 0, count: residueCount)
            var next = residueOffsetOfChain
            for r in 0 ..< residueCount {
                let c = Int(residueChain[r])
                rank[r] = Int32(next[c])
                next[c] += 1
            }
        }
        // Atom order: stable by output residue (a no-op when every residue's atoms are contiguous
        // and residues come in output order).
        var atomsInOrder = true
        var previous: Int32 = -1
        for a in 0 ..< atomCount {
            let r = rank.isEmpty ? atomResidue[a] : rank[Int(atomResidue[a])]
            if r < previous { atomsInOrder = false; break }
            previous = r
        }
        var atomCountOfResidue = [Int](repeating: 0, count: residueCount + 1)
        for a in 0 ..< atomCount {
            let r = rank.isEmpty ? Int(atomResidue[a]) : Int(rank[Int(atomResidue[a])])
            atomCountOfResidue[r + 1] += 1
        }
        s.residueAtomOffsets = [Int](repeating: 0, count: residueCount + 1)
        for r in 0 ..< residueCount { s.residueAtomOffsets[r + 1] = s.residueAtomOffsets[r] + atomCountOfResidue[r + 1] }
        if !atomsInOrder {
            var slot = Array(s.residueAtomOffsets.dropLast())
            var order = [Int](repeating: 0, count: atomCount)   // output position → file position
            for a in 0 ..< atomCount {
                let r = rank.isEmpty ? Int(atomResidue[a]) : Int(rank[Int(atomResidue[a])])
                order[slot[r]] = a
                slot[r] += 1
            }
            atoms.copy(into: &s, order: order)
        } else {
            atoms.copy(into: &s, order: nil)
        }
        // Residue tables in output order.
        if rank.isEmpty {
            s.residueNames = residueNames
            s.residueNumbers = residueNumbers
            s.insertionCodes = insertionCodes
            s.isHetero = isHetero
            s.caIsNotCarbon = residueFlags.map { $0 & 3 == 2 }
            s.isOtherRecord = residueFlags.map { $0 & 4 != 0 }
            s.entityTypes = entityTypes
        } else {
            var byOutput = [Int](repeating: 0, count: residueCount)
            for r in 0 ..< residueCount { byOutput[Int(rank[r])] = r }
            s.residueNames = byOutput.map { residueNames[$0] }
            s.residueNumbers = byOutput.map { residueNumbers[$0] }
            s.insertionCodes = byOutput.map { insertionCodes[$0] }
            s.isHetero = byOutput.map { isHetero[$0] }
            s.caIsNotCarbon = byOutput.map { residueFlags[$0] & 3 == 2 }
            s.isOtherRecord = byOutput.map { residueFlags[$0] & 4 != 0 }
            s.entityTypes = byOutput.map { entityTypes[$0] }
        }
        // Models and chains.
        s.modelNumbers = []
        s.modelChainOffsets = [0]
        s.chainNames = []
        s.chainResidueOffsets = [0]
        for (m, model) in models.enumerated() {
            s.modelNumbers.append(model.number)
            let end = m + 1 < models.count ? models[m + 1].firstChain : chainCount
            for c in model.firstChain ..< end {
                s.chainNames.append(chainNames[c].description)
                s.chainResidueOffsets.append(residueOffsetOfChain[c + 1])
            }
            s.modelChainOffsets.append(s.chainNames.count)
        }
        return s
    }
}
