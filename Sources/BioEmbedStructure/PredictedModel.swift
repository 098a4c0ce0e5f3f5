/// Whether a structure file holds a predicted model, whose B-factors are pLDDT: ModelCIF files
/// (`_ma_` categories, as AlphaFold DB and ModelArchive write them), PDB files whose `HEADER`,
/// `TITLE` or `REMARK` names AlphaFold, ColabFold or ESMFold, and PDB files with a `PARENT` record
/// (written by the AlphaFold/OpenFold `to_pdb` that ColabFold and ESMFold use).
enum PredictedModel {
    static let names = ["ALPHAFOLD", "COLABFOLD", "ESMFOLD"].map { Array($0.utf8) }
    static let records = ["HEADER", "TITLE ", "REMARK"].map { Array($0.utf8) }
    static let parent = Array("PARENT".utf8)

    /// Whether one PDB line (without its newline) marks a predicted model.
    static func isPredictionLine(_ line: UnsafeBufferPointer<UInt8>) -> Bool {
        guard line.count >= 6 else { return false }
        func starts(_ prefix: [UInt8]) -> Bool { (0..<prefix.count).allSatisfy { line[$0] & 0xDF == prefix[$0] & 0xDF } }
        if starts(parent) { return true }
        guard records.contains(where: starts) else { return false }
        // most header lines name no program: one pass for "FOLD" in any case first
        var k = 0, sawFold = false
        while k + 4 <= line.count && !sawFold {
            sawFold = line[k] & 0xDF == 0x46 && line[k + 1] & 0xDF == 0x4F && line[k + 2] & 0xDF == 0x4C && line[k + 3] & 0xDF == 0x44
            k += 1
        }
        guard sawFold else { return false }
        // a program name anywhere on the line, ignoring ASCII case
        for name in names where line.count >= name.count {
            for start in 0...(line.count - name.count) {
                var k = 0
                while k < name.count && (line[start + k] & 0xDF) == name[k] { k += 1 }
                if k == name.count { return true }
            }
        }
        return false
    }
}
