/// The atom tables of a structure being read, as growable buffers that an append writes without
/// Swift `Array`'s per-append uniqueness and capacity calls (four calls per value, a tenth of the
/// parse time): one capacity check per atom for all nine columns. `arrays()` copies them out once.
/// Non-copyable, so that the buffers have one owner and are freed however the reader ends
/// (`deinit`, thrown errors included), and without a class's dynamic exclusivity checks.
struct AtomColumns: ~Copyable {
    private(set) var count = 0
    private var capacity: Int
    private var names: UnsafeMutablePointer<PackedName>
    private var altlocs: UnsafeMutablePointer<UInt8>
    private var occupancies: UnsafeMutablePointer<Float>
    private var bFactors: UnsafeMutablePointer<Float>
    private var x: UnsafeMutablePointer<Double>
    private var y: UnsafeMutablePointer<Double>
    private var z: UnsafeMutablePointer<Double>
    private var lines: UnsafeMutablePointer<Int32>
    /// The residue (builder's creation index) of each atom.
    private(set) var residues: UnsafeMutablePointer<Int32>

    init(capacity requested: Int) {
        capacity = max(requested, 64)
        names = .allocate(capacity: capacity)
        altlocs = .allocate(capacity: capacity)
        occupancies = .allocate(capacity: capacity)
        bFactors = .allocate(capacity: capacity)
        x = .allocate(capacity: capacity)
        y = .allocate(capacity: capacity)
        z = .allocate(capacity: capacity)
        lines = .allocate(capacity: capacity)
        residues = .allocate(capacity: capacity)
    }

    deinit {
        names.deallocate(); altlocs.deallocate(); occupancies.deallocate(); bFactors.deallocate()
        x.deallocate(); y.deallocate(); z.deallocate(); lines.deallocate(); residues.deallocate()
    }

    @inline(__always)
    mutating func append(name: PackedName, altloc: UInt8, occupancy: Float, bFactor: Float, x xv: Double, y yv: Double, z zv: Double,
                         line: Int32, residue: Int32) {
        if count == capacity { grow() }
        let i = count
        names[i] = name; altlocs[i] = altloc; occupancies[i] = occupancy; bFactors[i] = bFactor
        x[i] = xv; y[i] = yv; z[i] = zv
        lines[i] = line; residues[i] = residue
        count = i &+ 1
    }

    private mutating func grow() {
        let newCapacity = 2 * capacity
        func moved<T>(_ old: UnsafeMutablePointer<T>) -> UnsafeMutablePointer<T> {
            let new = UnsafeMutablePointer<T>.allocate(capacity: newCapacity)
            new.update(from: old, count: count)
            old.deallocate()
            return new
        }
        names = moved(names); altlocs = moved(altlocs); occupancies = moved(occupancies); bFactors = moved(bFactors)
        x = moved(x); y = moved(y); z = moved(z); lines = moved(lines); residues = moved(residues)
        capacity = newCapacity
    }

    /// Copies the columns into `model`'s atom arrays, in this order or (with `order`, output position
    /// → append position) permuted.
    func copy(into model: inout StructureModel, order: [Int]?) {
        func column<T>(_ p: UnsafeMutablePointer<T>) -> [T] {
            if let order { return order.map { p[$0] } }
            return Array(UnsafeBufferPointer(start: p, count: count))
        }
        model.atomNames = column(names)
        model.altlocs = column(altlocs)
        model.occupancies = column(occupancies)
        model.bFactors = column(bFactors)
        model.x = column(x)
        model.y = column(y)
        model.z = column(z)
        model.atomLines = column(lines)
    }
}
