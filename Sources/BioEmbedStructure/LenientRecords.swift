import BioEmbedCore

/// Atom records a reader read leniently, as gemmi reads them, reported as one warning per kind
/// and file (a trajectory may hold thousands of such lines): the count and the first line.
struct LenientRecords {
    let file: String
    private var skippedCount = 0, skippedFirst: (line: Int, text: String)? = nil
    private var numberCount = 0, numberFirst: (line: Int, text: String)? = nil

    init(file: String) { self.file = file }

    /// A water or ligand record with unreadable coordinates, left out.
    mutating func skipped(line: Int, text: String) {
        skippedCount += 1
        if skippedFirst == nil { skippedFirst = (line, text) }
    }

    /// A residue number read as its leading digits.
    mutating func readNumber(line: Int, text: String) {
        numberCount += 1
        if numberFirst == nil { numberFirst = (line, text) }
    }

    func report() {
        if let first = skippedFirst {
            Diagnostics.warning("\(file): skipped \(skippedCount) water/ligand atom record(s) whose x, y, z (columns 31–54) are not numbers (first: line \(first.line), \(first.text)); the chains are read without them")
        }
        if let first = numberFirst {
            Diagnostics.warning("\(file): read \(numberCount) residue number(s) that are not numbers as their leading digits, as gemmi does (first: line \(first.line), \(first.text))")
        }
    }
}
