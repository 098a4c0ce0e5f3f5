import BioEmbedHDF5

/// Per-subject rows an earlier output holds for the subjects whose resume key is unchanged
/// (`CollectionReuse`): what an fMRI collection stage copies instead of computing on `--resume`.
///
/// Every dataset the stage writes must be there for a subject, with this run's row shape; a
/// subject whose rows are all NaN (it failed then) is computed again, so its error is reported
/// again. Read before the stage replaces its groups.
struct EarlierRows: Sendable {
    /// One dataset under `/fmri`: `rowLength` values per subject (`[S, ...]`), or ragged rows
    /// (`offsets` under `/fmri`, `rowLength` values per entry, any number of entries per subject).
    struct Dataset: Sendable {
        var path: String
        var rowLength: Int
        var offsets: String?
    }

    private var rows: [String: [String: [Double]]] = [:]

    /// Subjects whose rows were found.
    var count: Int { rows.count }

    /// - Parameter sameRow: reuse a subject only where it had the same position (its result
    ///   depends on the position, as the factorization's seed does).
    init(_ reuse: CollectionReuse?, ids: [String], datasets: [Dataset], sameRow: Bool = false) {
        guard let reuse, let previous = reuse.previous, let fmri = try? previous.root.group("fmri"),
              let oldIDs = try? fmri.dataset("ids").readStrings() else { return }
        var oldRow: [String: Int] = [:]
        for (row, id) in oldIDs.enumerated() where oldRow[id] == nil { oldRow[id] = row }
        var opened: [(Dataset, HDF5Dataset, [Int64]?)] = []
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
            opened.append((d, data, offsets))
        }
        for (position, id) in ids.enumerated() where reuse.canReuse(id) {
            guard let row = oldRow[id], !sameRow || row == position else { continue }
            var found: [String: [Double]] = [:]
            for (d, data, offsets) in opened {
                let range = offsets.map { Int($0[row])..<Int($0[row + 1]) } ?? row..<(row + 1)
                guard let values: [Double] = try? data.readRows(range) else { break }
                found[d.path] = values
            }
            guard found.count == opened.count,
                  !found.values.contains(where: { !$0.isEmpty && $0.allSatisfy(\.isNaN) }) else { continue }
            rows[id] = found
        }
    }

    /// The rows of `dataset` for `id`, when every dataset had them.
    func row(_ id: String, _ dataset: String) -> [Double]? { rows[id]?[dataset] }

    func contains(_ id: String) -> Bool { rows[id] != nil }
}
