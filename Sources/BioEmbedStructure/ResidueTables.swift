/// Residue name tables: foldseek's three-to-one code and gemmi's water names (the polymer heuristics
/// use gemmi's own table, `GemmiResidueTable`).
///
/// `oneLetter` is foldseek's `threeToOneAA` (src/strucclustutils/GemmiWrapper.cpp, commit d5b1d3d,
/// itself adapted from gemmi's residue table): the 20 standard amino acids, synonyms and about 120
/// modified residues mapped to their parent; every other name, and any name that is not exactly
/// three characters long, is `X`. These are letters from a published table, not computed values.
public enum ResidueTables {
    /// (three-letter name, one-letter code) pairs of foldseek's table, in its order.
    static let threeToOnePairs: [(String, Character)] = [
        ("ALA", "A"), ("ARG", "R"), ("ASN", "N"), ("ABA", "A"), ("ASP", "D"), ("ASX", "B"), ("CYS", "C"),
        ("CSH", "S"), ("GLN", "Q"), ("GLU", "E"), ("GLX", "Z"), ("GLY", "G"), ("HIS", "H"), ("ILE", "I"),
        ("LEU", "L"), ("LYS", "K"), ("MET", "M"), ("MSE", "M"), ("ORN", "A"), ("PHE", "F"), ("PRO", "P"),
        ("SER", "S"), ("THR", "T"), ("TRY", "W"), ("TRP", "W"), ("TYR", "Y"), ("UNK", "X"), ("VAL", "V"),
        ("SEC", "C"), ("PYL", "O"), ("SEP", "S"), ("TPO", "T"), ("PCA", "E"), ("CSO", "C"), ("PTR", "Y"),
        ("KCX", "K"), ("CSD", "C"), ("LLP", "K"), ("CME", "C"), ("MLY", "K"), ("DAL", "A"), ("TYS", "Y"),
        ("OCS", "C"), ("M3L", "K"), ("FME", "M"), ("ALY", "K"), ("HYP", "P"), ("CAS", "C"), ("CRO", "T"),
        ("CSX", "C"), ("DPR", "P"), ("DGL", "E"), ("DVA", "V"), ("CSS", "C"), ("DPN", "F"), ("DSN", "S"),
        ("DLE", "L"), ("HIC", "H"), ("NLE", "L"), ("MVA", "V"), ("MLZ", "K"), ("CR2", "G"), ("SAR", "G"),
        ("DAR", "R"), ("DLY", "K"), ("YCM", "C"), ("NRQ", "M"), ("CGU", "E"), ("0TD", "D"), ("MLE", "L"),
        ("DAS", "D"), ("DTR", "W"), ("CXM", "M"), ("TPQ", "Y"), ("DCY", "C"), ("DSG", "N"), ("DTY", "Y"),
        ("DHI", "H"), ("MEN", "N"), ("DTH", "T"), ("SAC", "S"), ("DGN", "Q"), ("AIB", "A"), ("SMC", "C"),
        ("IAS", "D"), ("CIR", "R"), ("BMT", "T"), ("DIL", "I"), ("FGA", "E"), ("PHI", "F"), ("CRQ", "Q"),
        ("SME", "M"), ("GHP", "G"), ("MHO", "M"), ("NEP", "H"), ("TRQ", "W"), ("TOX", "W"), ("ALC", "A"),
        ("SCH", "C"), ("MDO", "A"), ("MAA", "A"), ("GYS", "S"), ("MK8", "L"), ("CR8", "H"), ("KPI", "K"),
        ("SCY", "C"), ("DHA", "S"), ("OMY", "Y"), ("CAF", "C"), ("0AF", "W"), ("SNN", "N"), ("MHS", "H"),
        ("SNC", "C"), ("PHD", "D"), ("B3E", "E"), ("MEA", "F"), ("MED", "M"), ("OAS", "S"), ("GL3", "G"),
        ("FVA", "V"), ("PHL", "F"), ("CRF", "T"), ("BFD", "D"), ("MEQ", "Q"), ("DAB", "A"), ("AGM", "R"),
        ("4BF", "Y"), ("B3A", "A"), ("B3D", "D"), ("B3K", "K"), ("B3Y", "Y"), ("BAL", "A"), ("DBZ", "A"),
        ("GPL", "K"), ("HSK", "H"), ("HY3", "P"), ("HZP", "P"), ("KYN", "W"), ("MGN", "Q"),
    ]

    static let oneLetterMap: [UInt32: UInt8] = {
        var map: [UInt32: UInt8] = [:]
        for (name, letter) in threeToOnePairs where map[PackedName(name).raw] == nil {
            map[PackedName(name).raw] = letter.asciiValue ?? UInt8(ascii: "X")
        }
        return map
    }()

    /// The one-letter code of a residue name (foldseek's table; `X` when unknown).
    public static func oneLetter(_ name: PackedName) -> UInt8 {
        oneLetterMap[name.raw] ?? UInt8(ascii: "X")
    }

    /// ASCII case folded away (as gemmi's `ialpha4_id`, applied to both sides of a comparison).
    static let caseMask: UInt32 = ~0x2020_2020
    static let waters: [UInt32] = ["HOH", "DOD", "WAT", "H2O"].map { PackedName($0).raw & caseMask }

    /// Water as gemmi's `Residue::is_water` decides it (TER handling, entity types): HOH, DOD, WAT
    /// and H2O in any case. MD names such as SOL or TIP3 are not water to gemmi (nor here).
    public static func isWater(_ name: PackedName) -> Bool {
        let folded = name.raw & caseMask
        return name.count == 3 && waters.contains(folded)
    }
}
