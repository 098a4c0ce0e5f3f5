import BioEmbedCore
import BioEmbedLinalg
import Dispatch
import Synchronization

extension RegionExtractor {
    /// `[T, R]` parcel means of a CIFTI-2 dense time series (`.dtseries.nii`) over the
    /// grayordinates each label of `atlas` covers, plus the TR from the series step.
    ///
    /// Streams the file in blocks of whole grayordinates (their time points are contiguous);
    /// memory is one block plus `[R, T]` sums, whatever the file's size.
    ///
    /// - Throws: `NeuroError` for a file that is not a dense time series, grayordinates that do not
    ///   match the atlas's meshes or volume, or NaN/Inf in a labelled grayordinate.
    public static func cifti(bold path: String, atlas: CIFTIAtlas) throws(NeuroError) -> (signals: Matrix<Double>, tR: Double?) {
        let series = try CIFTIFile(path)
        guard case let .series(step) = series.rowKind else {
            throw .invalidInput(file: path, expected: "a CIFTI-2 dense time series (.dtseries.nii: a series along dimension 0)", found: "\(series.rowKind)")
        }
        let t = series.rows
        guard t >= 2 else { throw .invalidInput(file: path, expected: "at least 2 time points", found: "\(t)") }
        let columns = try atlas.columnIndex(for: series)
        let r = atlas.regionIDs.count
        guard MemoryBudget.fits([r, t], elementSize: 2 * MemoryLayout<Double>.stride) else {
            throw .invalidInput(file: path, expected: "parcel time series within the memory budget of one input", found: "\(t) time points × \(r) regions")
        }
        var counts = [Double](repeating: 0, count: r)
        for c in columns where c >= 0 { counts[Int(c)] += 1 }
        warnEmpty(counts: counts, ids: atlas.regionIDs, path: path, what: "grayordinate", atlas: atlas.file)
        var sums = [Double](repeating: 0, count: r * t)  // [R, T]
        try sums.withUnsafeMutableBufferPointer { (s: inout UnsafeMutableBufferPointer<Double>) throws(NeuroError) in
            let sums = s
            try series.forEachBlock { (first: Int, count: Int, values: UnsafeBufferPointer<Double>) throws(NeuroError) in
                for g in 0..<count {
                    let c = Int(columns[first + g])
                    guard c >= 0 else { continue }
                    let source = values.baseAddress! + g * t
                    let target = sums.baseAddress! + c * t
                    for k in 0..<t { target[k] += source[k] }
                }
            }
        }
        return (try means(sums: sums, counts: counts, t: t, ids: atlas.regionIDs, path: path), step)
    }

    /// `[T, R]` label means of GIFTI time series (`.func.gii`, one file per hemisphere) over the
    /// vertices of each label, the hemispheres taken together as nilearn's `SurfaceLabelsMasker`
    /// does (its `strategy="mean"`).
    public static func surface(bold path: String, atlas: SurfaceAtlas) throws(NeuroError) -> Matrix<Double> {
        let files = try Hemispheres.files(path)
        guard files.count == atlas.files.count else {
            throw .invalidInput(
                file: path, expected: "\(atlas.files.count) hemisphere file(s) as the atlas \(atlas.files.joined(separator: ", "))",
                found: files.count == 1 ? "a file without a hemisphere in its name (hemi-L/hemi-R, .L./.R., lh./rh.)" : "\(files.count): \(files.joined(separator: ", "))")
        }
        let r = atlas.regionIDs.count
        let position = Dictionary(uniqueKeysWithValues: atlas.regionIDs.enumerated().map { ($1, $0) })
        var counts = [Double](repeating: 0, count: r)
        for part in atlas.labels { for label in part { if let c = position[label] { counts[c] += 1 } } }
        warnEmpty(counts: counts, ids: atlas.regionIDs, path: path, what: "vertex", atlas: atlas.files[0])
        // The hemispheres are read and decoded side by side (one core each).
        let results = Mutex<[Int: Result<([Double], Int), NeuroError>]>([:])
        DispatchQueue.concurrentPerform(iterations: files.count) { part in
            let result = Result { () throws(NeuroError) in
                try hemisphereSums(file: files[part], labels: atlas.labels[part], atlasFile: atlas.files[part], position: position, regions: r)
            }
            results.withLock { $0[part] = result }
        }
        var sums: [Double] = []  // [R, T]
        var t = 0
        for part in files.indices {
            let (partSums, timePoints) = try results.withLock { $0[part]! }.get()
            if part == 0 {
                (sums, t) = (partSums, timePoints)
            } else {
                guard timePoints == t else {
                    throw .invalidInput(file: files[part], expected: "\(t) time points (as \(files[0]))", found: "\(timePoints)")
                }
                for i in sums.indices { sums[i] += partSums[i] }
            }
        }
        return try means(sums: sums, counts: counts, t: t, ids: atlas.regionIDs, path: path)
    }

    /// `[R, T]` sums of one hemisphere's file over the vertices of each label, and its time points.
    private static func hemisphereSums(file: String, labels: [Int64], atlasFile: String, position: [Int64: Int], regions r: Int) throws(NeuroError) -> ([Double], Int) {
        let gifti = try GIFTIFile(file)
        let (vertices, t) = gifti.timeSeriesShape
        guard vertices == labels.count else {
            throw .invalidInput(file: file, expected: "\(labels.count) vertices (the mesh of \(atlasFile))", found: "\(vertices)")
        }
        guard t >= 2 else { throw .invalidInput(file: file, expected: "a time series (at least 2 time points)", found: "\(t)") }
        guard MemoryBudget.fits([r, t], elementSize: 2 * MemoryLayout<Double>.stride) else {
            throw .invalidInput(file: file, expected: "parcel time series within the memory budget of one input", found: "\(t) time points × \(r) regions")
        }
        var sums = [Double](repeating: 0, count: r * t)
        let columns = labels.map { position[$0] ?? -1 }
        if gifti.arrays.count == 1 {
            let values = try gifti.values(0)  // [V, T]
            for (v, c) in columns.enumerated() where c >= 0 {
                for k in 0..<t { sums[c * t + k] += values[v * t + k] }
            }
        } else {
            var row = [Double](repeating: 0, count: r)
            for k in 0..<t {
                guard gifti.arrays[k].count == vertices else {
                    throw .invalidInput(file: file, expected: "\(vertices) values in every data array", found: "\(gifti.arrays[k].count) in array \(k)")
                }
                let values = try gifti.values(k)
                for c in 0..<r { row[c] = 0 }
                for (v, c) in columns.enumerated() where c >= 0 { row[c] += values[v] }
                for c in 0..<r { sums[c * t + k] = row[c] }
            }
        }
        return (sums, t)
    }

    private static func warnEmpty(counts: [Double], ids: [Int64], path: String, what: String, atlas: String) {
        let missing = (0..<ids.count).filter { counts[$0] == 0 }.map { ids[$0] }
        if !missing.isEmpty {
            Diagnostics.warning("\(path): labels \(missing.prefix(10).map(String.init).joined(separator: ", ")) of \(atlas) have no \(what) in this file; their columns are NaN")
        }
    }

    /// `[T, R]` means from `[R, T]` sums; a non-finite sum of a non-empty region is an error.
    private static func means(sums: [Double], counts: [Double], t: Int, ids: [Int64], path: String) throws(NeuroError) -> Matrix<Double> {
        let r = counts.count
        var out = Matrix<Double>(rows: t, columns: r)
        for c in 0..<r {
            guard counts[c] > 0 else {
                for k in 0..<t { out.storage[k * r + c] = .nan }
                continue
            }
            for k in 0..<t {
                let v = sums[c * t + k]
                guard v.isFinite else {
                    throw .invalidInput(file: path, expected: "finite values inside the atlas", found: "NaN or Inf in region \(ids[c]) at time point \(k)")
                }
                out.storage[k * r + c] = v / counts[c]
            }
        }
        return out
    }
}
