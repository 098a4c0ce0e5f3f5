import BioEmbedHDF5
import Foundation

/// Synthetic ROI time series with known network structure, for checking that pre-training learns
/// something (`bioembed`'s evidence runs and tests).
///
/// Each subject has `networks` latent AR(1) signals (φ = 0.8, a slow BOLD-like process); ROI r
/// belongs to network r mod `networks` and reads its signal with loading 0.6–1.0 plus white noise
/// (σ = `noise`), then an offset ~1000 and scale 5–30 like raw BOLD. The hidden subject label
/// (0/1) is the network configuration: in configuration 1 the ROIs of the last network read the
/// signal of network 0 instead (two networks merge), so the label is visible only in the
/// correlation structure, not in any single ROI's amplitude. O(subjects · frames · rois).
public struct SyntheticFMRI: Sendable {
    public var subjects: Int
    public var rois: Int
    public var frames: Int
    public var networks = 4
    public var noise = 0.7
    public var seed: UInt64 = 1

    public init(subjects: Int, rois: Int, frames: Int, networks: Int = 4, noise: Double = 0.7, seed: UInt64 = 1) {
        self.subjects = subjects; self.rois = rois; self.frames = frames; self.networks = networks; self.noise = noise; self.seed = seed
    }

    /// Label of subject i (alternating 0, 1).
    public func label(_ i: Int) -> Int { i % 2 }

    /// `[frames, rois]` series of subject i (frame-major, as `/fmri/timeseries` stores it).
    public func series(_ i: Int) -> [Double] {
        var rng = TrainingRandom(seed: seed, stream: 11, index: UInt64(i))
        var latent = [Double](repeating: 0, count: networks)
        let loadings = (0..<rois).map { _ in 0.6 + 0.4 * rng.uniform() }
        let offsets = (0..<rois).map { _ in 1000 + 50 * rng.normal() }
        let scales = (0..<rois).map { _ in 5 + 25 * rng.uniform() }
        var out = [Double](repeating: 0, count: frames * rois)
        for t in 0..<frames {
            for j in 0..<networks { latent[j] = 0.8 * latent[j] + 0.6 * rng.normal() }
            for r in 0..<rois {
                var network = r % networks
                if label(i) == 1 && network == networks - 1 { network = 0 }
                out[t * rois + r] = offsets[r] + scales[r] * (loadings[r] * latent[network] + noise * rng.normal())
            }
        }
        return out
    }

    /// Writes a `/fmri` collection (ids `sub-000`…, `t_r` 2 s, `region_ids` 1…R) to `path`.
    public func write(to path: String) throws {
        let file = try HDF5File.create(path)
        let group = try file.root.createGroup("fmri")
        var series: [Double] = [], offsets: [Int64] = [0]
        series.reserveCapacity(subjects * frames * rois)
        for i in 0..<subjects {
            series += self.series(i)
            offsets.append(offsets.last! + Int64(frames))
        }
        try group.writeStrings("ids", (0..<subjects).map { String(format: "sub-%03d", $0) })
        try group.write("t_r", [Double](repeating: 2, count: subjects))
        try group.write("region_ids", (1...rois).map(Int64.init))
        try group.write("timeseries_offsets", offsets)
        try group.write("timeseries", series, shape: [subjects * frames, rois])
        try file.commit()
        file.close()
    }
}
