import BioEmbedCore
import BioEmbedHDF5
import Foundation

/// An item stage's output written in full but not yet committed: the file is still open under its
/// temporary name, so the collection stages of the same run that add groups to it write into it
/// directly instead of into a copy (`SharedOutputs`). Its parts and done record wait for the
/// commit: a run killed before it leaves the previous output, and the parts a resumed run merges.
struct PendingOutput {
    let file: HDF5File
    let record: DoneRecord
    let recordPath: String
    let partsDirectory: String

    /// Renames the file into place, then saves its done record and removes the parts it came from.
    func commit() throws {
        try file.commit()
        try record.save(recordPath)
        try? FileManager.default.removeItem(atPath: partsDirectory)
    }
}
