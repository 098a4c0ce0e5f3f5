import BioEmbedCore
import BioEmbedHDF5
import Foundation

/// The files of a run that collection stages add groups to, each opened for writing once and
/// committed once, however many stages add to it (`pipelines/fmri.yaml`: connectivity, graph,
/// spectral, training and the encoder all add to `fmri.h5`).
///
/// When an item stage of the same run has just made the file, its uncommitted output is the open
/// file (`adopt`): nothing is copied, and the item stage's done record and parts wait for the one
/// commit. Otherwise opening for writing copies the committed file (the copy is renamed over it on
/// commit). Either way a killed run leaves the previous complete file.
///
/// A stage that fails leaves its partial groups in the open file, so the file is discarded and
/// rebuilt (the item stage's output merged again from its kept parts, or a fresh copy), the
/// stages that had succeeded into it are run again (they are deterministic), and then the failure
/// is reported.
final class SharedOutputs {
    private struct Open {
        let file: HDF5File
        /// Stages (indices in the pipeline) whose groups the open file holds, in order.
        var stages: [Int]
        /// The item stage's output that the open file is, committed with it.
        var base: PendingOutput?
        /// Makes that output again (from its kept parts) after a failure; nil: the committed file is
        /// still the answer, and a copy of it is opened.
        var rebuild: (() throws -> PendingOutput?)?
    }

    private var open: [String: Open] = [:]

    /// Makes an item stage's uncommitted output the open file of `path`. `rebuild` makes it again.
    func adopt(_ output: PendingOutput, at path: String, rebuild: @escaping () throws -> PendingOutput?) throws {
        try commit(path)
        open[path] = Open(file: output.file, stages: [], base: output, rebuild: rebuild)
    }

    /// Runs `stage` (the pipeline's stage `index`) into the open file of `path`, opening a copy of
    /// it first when none is open; `body` also gets the done record of the uncommitted item-stage
    /// output the file is, if it is one. `replay` runs a stage again into a rebuilt file after a failure.
    func run(
        into path: String, index: Int, _ body: (HDF5File, DoneRecord?) throws -> StageSummary,
        replay: (Int, HDF5File, DoneRecord?) throws -> Void
    ) throws -> StageSummary {
        var entry = try open[path] ?? Open(file: HDF5File.update(path), stages: [])
        do {
            let summary = try body(entry.file, entry.base?.record)
            entry.stages.append(index)
            open[path] = entry
            return summary
        } catch {
            entry.file.close()
            open[path] = nil
            if !entry.stages.isEmpty || entry.rebuild != nil {
                var fresh: Open
                if let rebuild = entry.rebuild, let base = try rebuild() {
                    fresh = Open(file: base.file, stages: [], base: base, rebuild: rebuild)
                } else {
                    fresh = Open(file: try HDF5File.update(path), stages: [])
                }
                for earlier in entry.stages { try replay(earlier, fresh.file, fresh.base?.record) }
                fresh.stages = entry.stages
                open[path] = fresh
            }
            throw error
        }
    }

    /// Commits the open file of `path`, if any (before anything reads or replaces the file itself).
    func commit(_ path: String) throws {
        guard let entry = open.removeValue(forKey: path) else { return }
        if let base = entry.base { try base.commit() } else { try entry.file.commit() }
    }

    /// Commits every open file (the end of a run).
    func commitAll() throws {
        for path in open.keys.sorted() { try commit(path) }
    }
}
