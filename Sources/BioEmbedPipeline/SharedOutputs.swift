import BioEmbedHDF5
import Foundation

/// The files of a run that collection stages add groups to, each opened for writing once and
/// committed once, however many stages add to it (`pipelines/fmri.yaml`: connectivity, graph,
/// spectral, training and the encoder all add to `fmri.h5`). Opening for writing copies the file
/// (the copy is renamed over it on commit, so a killed run leaves the previous complete file):
/// one copy per file and run instead of one per stage.
///
/// A stage that fails leaves its partial groups in the open copy, so the copy is discarded and
/// the stages that had succeeded into it are run again into a fresh one (they are deterministic);
/// then the failure is reported.
final class SharedOutputs {
    private struct Open {
        let file: HDF5File
        /// Stages (indices in the pipeline) whose groups the open copy holds, in order.
        var stages: [Int]
    }

    private var open: [String: Open] = [:]

    /// Runs `stage` (the pipeline's stage `index`) into the open copy of `path`, opening it first.
    /// `replay` runs a stage again into a fresh copy after a failure.
    func run(
        into path: String, index: Int, _ body: (HDF5File) throws -> StageSummary, replay: (Int, HDF5File) throws -> Void
    ) throws -> StageSummary {
        var entry = try open[path] ?? Open(file: HDF5File.update(path), stages: [])
        do {
            let summary = try body(entry.file)
            entry.stages.append(index)
            open[path] = entry
            return summary
        } catch {
            entry.file.close()
            open[path] = nil
            if !entry.stages.isEmpty {
                let fresh = try HDF5File.update(path)
                for earlier in entry.stages { try replay(earlier, fresh) }
                open[path] = Open(file: fresh, stages: entry.stages)
            }
            throw error
        }
    }

    /// Commits the open copy of `path`, if any (before anything reads or replaces the file itself).
    func commit(_ path: String) throws {
        guard let entry = open.removeValue(forKey: path) else { return }
        try entry.file.commit()
    }

    /// Commits every open copy (the end of a run).
    func commitAll() throws {
        for path in open.keys.sorted() { try commit(path) }
    }
}
