/// Assembles a `StructureModel` from atom records arriving in file order.
///
/// Models are opened in file order; inside a model a chain *part* starts whenever the chain id
/// changes, and parts with the same id are merged into the first chain of that id (gemmi's
/// `merge_chain_parts`). Inside a part, atoms with the same (number, insertion code, name) join
/// one residue even when not consecutive (gemmi's residue map). Cost: O(atoms) with one hash
/// lookup per residue change.
struct StructureBuilder {
    struct ResidueKey: Hashable {
        var number: Int32
        var icode: UInt8
        var name: UInt32
    }

    struct ResidueDraft {
        var name: PackedName
        var number: Int32
        var icode: UInt8
        var het: Bool
        var entity: EntityType
        var atoms: [Int32] = []
    }

    struct ChainDraft {
        var name: PackedName
        var residues: [ResidueDraft] = []
    }

    struct ModelDraft {
        var number: Int
        var chains: [ChainDraft] = []
        var chainIndex: [PackedName: Int] = [:]
    }

    var models: [ModelDraft] = []
    // Raw atoms
    var atomNames: [PackedName] = []
    var altlocs: [UInt8] = []
    var occupancies: [Float] = []
    var xs: [Double] = []
    var ys: [Double] = []
    var zs: [Double] = []
    var lines: [Int32] = []

    /// Current chain (index in the current model) and residue (index in that chain), -1 if none.
    private(set) var currentChain = -1
    private(set) var currentResidue = -1
    private var currentChainName = PackedName(raw: 0)
    private var residueMap: [ResidueKey: Int] = [:]
    /// Residue index in the current chain where the current part starts.
    private(set) var partStart = 0
    private var lastKey = ResidueKey(number: .min, icode: 0, name: 0)

    var hasModel: Bool { !models.isEmpty }

    mutating func beginModel(_ number: Int) {
        models.append(ModelDraft(number: number))
        endPart()
    }

    /// Forces the next atom to start a new chain part (PDB `TER` with chain splitting, model change).
    mutating func endPart() {
        currentChain = -1
        currentResidue = -1
        residueMap.removeAll(keepingCapacity: true)
        lastKey = ResidueKey(number: .min, icode: 0, name: 0)
    }

    /// Whether a chain of this id already exists in the current model, and its first residue's
    /// entity type.
    func existingChainFirstEntity(_ name: PackedName) -> EntityType? {
        guard let model = models.last, let index = model.chainIndex[name] else { return nil }
        return model.chains[index].residues.first?.entity
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
            models[m].chains.append(ChainDraft(name: name))
            currentChain = models[m].chains.count - 1
            models[m].chainIndex[name] = currentChain
        }
        currentChainName = name
        partStart = models[m].chains[currentChain].residues.count
        residueMap.removeAll(keepingCapacity: true)
        currentResidue = -1
        lastKey = ResidueKey(number: .min, icode: 0, name: 0)
        return true
    }

    /// Selects (or creates) the residue of the current chain part; returns true when created.
    @discardableResult
    mutating func selectResidue(number: Int32, icode: UInt8, name: PackedName, het: Bool, entity: EntityType) -> Bool {
        let key = ResidueKey(number: number, icode: icode, name: name.raw)
        if currentResidue >= 0 && key == lastKey { return false }
        lastKey = key
        let m = models.count - 1
        if let index = residueMap[key] {
            currentResidue = index
            return false
        }
        models[m].chains[currentChain].residues.append(
            ResidueDraft(name: name, number: number, icode: icode, het: het, entity: entity))
        currentResidue = models[m].chains[currentChain].residues.count - 1
        residueMap[key] = currentResidue
        return true
    }

    mutating func addAtom(name: PackedName, altloc: UInt8, occupancy: Float, x: Double, y: Double, z: Double, line: Int) {
        let index = Int32(atomNames.count)
        atomNames.append(name)
        altlocs.append(altloc)
        occupancies.append(occupancy)
        xs.append(x)
        ys.append(y)
        zs.append(z)
        lines.append(Int32(truncatingIfNeeded: line))
        let m = models.count - 1
        models[m].chains[currentChain].residues[currentResidue].atoms.append(index)
    }

    /// Sets the entity type of residues `from ..< end` of the current chain.
    mutating func markCurrentPart(_ entity: EntityType, waterCheck: (PackedName) -> Bool) -> Bool {
        guard currentChain >= 0 else { return false }
        let m = models.count - 1
        var sawWater = false
        for r in partStart ..< models[m].chains[currentChain].residues.count {
            models[m].chains[currentChain].residues[r].entity = entity
            if waterCheck(models[m].chains[currentChain].residues[r].name) { sawWater = true }
        }
        return sawWater
    }

    mutating func setAllEntities(_ entity: EntityType) {
        for m in models.indices {
            for c in models[m].chains.indices {
                for r in models[m].chains[c].residues.indices { models[m].chains[c].residues[r].entity = entity }
            }
        }
    }

    /// Flattens the drafts into the struct-of-arrays model (atoms reordered by residue).
    func build(modelCountInFile: Int) -> StructureModel {
        var s = StructureModel()
        s.modelCountInFile = modelCountInFile
        s.atomNames.reserveCapacity(atomNames.count)
        for model in models {
            s.modelNumbers.append(model.number)
            for chain in model.chains {
                s.chainNames.append(chain.name.description)
                for residue in chain.residues {
                    s.residueNames.append(residue.name)
                    s.residueNumbers.append(residue.number)
                    s.insertionCodes.append(residue.icode)
                    s.isHetero.append(residue.het)
                    s.entityTypes.append(residue.entity)
                    for a in residue.atoms {
                        let i = Int(a)
                        s.atomNames.append(atomNames[i])
                        s.altlocs.append(altlocs[i])
                        s.occupancies.append(occupancies[i])
                        s.x.append(xs[i])
                        s.y.append(ys[i])
                        s.z.append(zs[i])
                        s.atomLines.append(lines[i])
                    }
                    s.residueAtomOffsets.append(s.atomNames.count)
                }
                s.chainResidueOffsets.append(s.residueNames.count)
            }
            s.modelChainOffsets.append(s.chainNames.count)
        }
        return s
    }
}
