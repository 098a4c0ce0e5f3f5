import BioEmbedHDF5
import Foundation

/// The training windows of a `/fmri` collection: each subject's `[T, R]` series is transposed to
/// ROI-major, z-scored per ROI over all T frames and cut into K = ⌊T/τ⌋ segments (as in
/// `encode_brainmae`), then into non-overlapping windows of `windowSegments` segments (the last
/// partial window is dropped). Subjects are split into training and held-out sets by a seeded
/// shuffle. Every problem (region count, too few frames for one window, NaN/∞) is an error
/// naming the file and the subject, raised before any training step.
public struct TrainingData: Sendable {
    /// Windows `[windowSegments, N, τ]` each, float32.
    public var windows: [[Float]]
    /// Subject index of each window.
    public var subjectOfWindow: [Int]
    public var subjects: [String]
    public var trainingWindows: [Int]
    public var heldOutWindows: [Int]
    public let windowSegments: Int

    public init(path: String, config c: BrainMAEConfig, windowSegments: Int, holdoutFraction: Double, seed: UInt64) throws {
        let file = try HDF5File.open(path)
        defer { file.close() }
        try self.init(file: file, config: c, windowSegments: windowSegments, holdoutFraction: holdoutFraction, seed: seed)
    }

    /// From a file already open (a pipeline's file that earlier stages are still adding to).
    public init(file: HDF5File, config c: BrainMAEConfig, windowSegments: Int, holdoutFraction: Double, seed: UInt64) throws {
        let path = file.path
        guard file.root.contains("fmri") else {
            throw NNError.invalidInput(file: path, expected: "a /fmri collection (bioembed fmri extract)", found: "no /fmri group")
        }
        let reader = try CollectionReader(try file.root.group("fmri"))
        let offsets = try reader.offsets("timeseries_offsets")
        let dataset = try reader.group.dataset("timeseries")
        let shape = dataset.shape
        guard shape.count == 2, shape[0] == Int(offsets.last ?? 0) else {
            throw NNError.invalidInput(file: path, expected: "/fmri/timeseries [\(offsets.last ?? 0), R]", found: "shape \(shape)")
        }
        let n = c.rois, tau = c.segmentLength
        guard shape[1] == n else {
            throw NNError.invalidInput(file: path, expected: "\(n) regions (n_rois of the config)", found: "\(shape[1]) regions in /fmri/timeseries")
        }
        self.windowSegments = windowSegments
        subjects = reader.ids
        windows = []
        subjectOfWindow = []
        for i in 0..<reader.count {
            let frames = Int(offsets[i + 1] - offsets[i])
            guard frames >= tau * windowSegments else {
                throw NNError.invalidInput(
                    file: path, expected: "subject '\(reader.ids[i])' with at least \(tau * windowSegments) frames (window_segments \(windowSegments) × seg_len \(tau))",
                    found: "\(frames) frames")
            }
            let rows: [Double] = try dataset.readRows(Int(offsets[i])..<Int(offsets[i + 1]))
            if let bad = rows.firstIndex(where: { !$0.isFinite }) {
                throw NNError.invalidInput(
                    file: path, expected: "finite values in subject '\(reader.ids[i])'", found: "\(rows[bad]) at frame \(bad / n), region \(bad % n)")
            }
            var roiMajor = [Float](repeating: 0, count: n * frames)
            for t in 0..<frames { for r in 0..<n { roiMajor[r * frames + t] = Float(rows[t * n + r]) } }
            let segments = BrainMAETrainingModel<Float>.segment(
                BrainMAEModel.zscore(roiMajor, rois: n, frames: frames), rois: n, frames: frames, length: tau)
            let size = windowSegments * n * tau
            for w in 0..<(segments.count / size) {
                windows.append(Array(segments[(w * size)..<((w + 1) * size)]))
                subjectOfWindow.append(i)
            }
        }
        var order = Array(0..<subjects.count)
        var rng = TrainingRandom(seed: seed, stream: 7, index: 0)
        rng.shuffle(&order)
        let heldOutCount = subjects.count < 2 ? 0 : min(subjects.count - 1, Int((holdoutFraction * Double(subjects.count)).rounded()))
        let heldOutSubjects = Set(order.prefix(heldOutCount))
        let owners = subjectOfWindow
        trainingWindows = owners.indices.filter { !heldOutSubjects.contains(owners[$0]) }
        heldOutWindows = owners.indices.filter { heldOutSubjects.contains(owners[$0]) }
    }

    /// A seeded segment-wise ROI mask `[B, K, N]` (1 = masked): one ratio r ~ U[0, ratioMax] per
    /// batch, round(r·N) ROIs (at most N − 2) masked uniformly at random in every (b, k).
    public static func mask(batch: Int, segments k: Int, rois n: Int, ratioMax: Double, random rng: inout TrainingRandom) -> [Float] {
        let ratio = rng.uniform() * ratioMax
        let count = min(max(n - 2, 0), Int((ratio * Double(n)).rounded()))
        var mask = [Float](repeating: 0, count: batch * k * n)
        var order = Array(0..<n)
        for s in 0..<(batch * k) {
            for i in 0..<count {
                let j = i + rng.below(n - i)
                order.swapAt(i, j)
                mask[s * n + order[i]] = 1
            }
        }
        return mask
    }
}
