/// An atom of a SMILES/SELFIES molecular graph (selfies 2.x `Atom`): element, optional bracket
/// properties. `hydrogens == nil` marks an organic-subset atom written without brackets.
struct SelfiesAtom: Sendable, Equatable {
    var element: String
    var isAromatic: Bool = false
    var isotope: Int?
    var chirality: String?
    var hydrogens: Int?
    var charge: Int = 0

    /// Bonds the atom may make under selfies' default semantic constraints, less its hydrogens.
    var bondingCapacity: Int {
        SelfiesGrammar.capacity(element: element, charge: charge) - (hydrogens ?? 0)
    }

    /// The SMILES text of the atom (selfies' `atom_to_smiles`), with or without brackets.
    func smiles(brackets: Bool) -> String {
        if isotope == nil, chirality == nil, hydrogens == nil, charge == 0 { return element }
        var text = brackets ? "[" : ""
        if let isotope { text += String(isotope) }
        text += element
        if let chirality { text += chirality }
        if let hydrogens, hydrogens != 0 {
            text += "H" + String(hydrogens)
        } else if isotope == nil, chirality == nil, hydrogens == 0, charge == 0, SelfiesGrammar.organicSubset.contains(element) {
            text += "H0"
        }
        if charge != 0 { text += (charge > 0 ? "+" : "-") + String(abs(charge)) }
        if brackets { text += "]" }
        return text
    }

    mutating func invertChirality() {
        if chirality == "@" {
            chirality = "@@"
        } else if chirality == "@@" {
            chirality = "@"
        }
    }
}
