import BioEmbedHDF5

/// Per-subject rows an earlier output holds for the subjects whose resume key is unchanged
/// (`CollectionReuse`): what an fMRI collection stage copies instead of computing on `--resume`.
///
/// Every dataset the stage writes must be in the earlier output with this run's row shape; a
/// subject the earlier run listed in `/errors` for this stage is computed again, so its error is
/// reported again. Rows are read when asked for (`row`), from the earlier file, which stays open:
/// memory does not grow with the number of subjects kept. Made before the stage replaces its groups.
struct EarlierRows {
    /// One dataset under `/fmri`: `rowLength` values per subject (`[S, ...]`), or ragged rows
    /// (`offsets` under `/fmri`, `rowLength` values per entry, any number of entries per subject).
    struct Dataset: Sendable {
        var path: String
        var rowLength: Int
        var offsets: String?
    }

    /// The earlier row of each subject kept.
    private var rowOf: [String: Int] = [:]
    private var opened: [String: (data: HDF5Dataset, offsets: [Int64]?)] = [:]

    /// Subjects whose rows are kept.
    var count: Int { rowOf.count }

    /// - Parameters:
    ///   - stage: the stage's name (its entries in the earlier `/errors` are not kept).
    ///   - collection: the nested collection under `/fmri` whose `ids` index the earlier rows.
    ///   - ids: this run's `/fmri/ids`.
    ///   - sameRow: keep a subject only where it had the same position in `/fmri/ids` (its result depends on the
    ///     position, as the factorization's seed does).
    init(_ reuse: CollectionReuse?, stage: String, collection: String, ids: [String], datasets: [Dataset], sameRow: Bool = false) {
        guard let reuse, let previous = reuse.previous, let fmri = try? previous.root.group("fmri"),
              let oldIDs = try? fmri.dataset(collection + "/ids").readStrings() else { return }
        var oldRow: [String: Int] = [:]
        for (row, id) in oldIDs.enumerated() where oldRow[id] == nil { oldRow[id] = row }
        for d in datasets {
            guard fmri.kind(of: d.path) == .dataset, let data = try? fmri.dataset(d.path),
                  data.shape.dropFirst().reduce(1, *) == d.rowLength else { return }
            var offsets: [Int64]?
            if let name = d.offsets {
                guard let o: [Int64] = try? fmri.dataset(name).read(), o.count == oldIDs.count + 1, Int(o.last!) == data.shape.first else { return }
                offsets = o
            } else {
                guard data.shape.first == oldIDs.count else { return }
            }
            opened[d.path] = (data, offsets)
        }
        var failed = Set<String>()
        if let errors = try? previous.root.group("errors"), let errorIDs = try? errors.dataset("ids").readStrings(),
           let stages = try? errors.dataset("stage").readStrings(), stages.count == errorIDs.count {
            for (id, name) in zip(errorIDs, stages) where name == stage { failed.insert(id) }
        }
        // with sameRow, a subject's position in the earlier /fmri/ids must be its position now
        var oldPosition: [String: Int] = [:]
        if sameRow, let all = try? fmri.dataset("ids").readStrings() {
            for (position, id) in all.enumerated() where oldPosition[id] == nil { oldPosition[id] = position }
        }
        for (position, id) in ids.enumerated() where reuse.canReuse(id) && !failed.contains(id) {
            guard let row = oldRow[id], !sameRow || oldPosition[id] == position else { continue }
            rowOf[id] = row
        }
    }

    /// The rows of `dataset` for `id` (nil when `id` is not kept or the read fails).
    func row(_ id: String, _ dataset: String) -> [Double]? {
        guard let row = rowOf[id], let (data, offsets) = opened[dataset] else { return nil }
        let range = offsets.map { Int($0[row])..<Int($0[row + 1]) } ?? row..<(row + 1)
        return try? data.readRows(range)
    }

    func contains(_ id: String) -> Bool { rowOf[id] != nil }
}
