/// Constants of selfies 2.x: elements, the organic subset, default bond constraints and the
/// 16-symbol index alphabet used after branch and ring symbols.
enum SelfiesGrammar {
    static let elements: Set<String> = [
        "H", "He", "Li", "Be", "B", "C", "N", "O", "F", "Ne", "Na", "Mg", "Al", "Si", "P", "S", "Cl", "Ar", "K", "Ca",
        "Sc", "Ti", "V", "Cr", "Mn", "Fe", "Co", "Ni", "Cu", "Zn", "Ga", "Ge", "As", "Se", "Br", "Kr", "Rb", "Sr", "Y",
        "Zr", "Nb", "Mo", "Tc", "Ru", "Rh", "Pd", "Ag", "Cd", "In", "Sn", "Sb", "Te", "I", "Xe", "Cs", "Ba", "Hf", "Ta",
        "W", "Re", "Os", "Ir", "Pt", "Au", "Hg", "Tl", "Pb", "Bi", "Po", "At", "Rn", "Fr", "Ra", "Rf", "Db", "Sg", "Bh",
        "Hs", "Mt", "Ds", "Rg", "Cn", "Fl", "Lv", "La", "Ce", "Pr", "Nd", "Pm", "Sm", "Eu", "Gd", "Tb", "Dy", "Ho", "Er",
        "Tm", "Yb", "Lu", "Ac", "Th", "Pa", "U", "Np", "Pu", "Am", "Cm", "Bk", "Cf", "Es", "Fm", "Md", "No", "Lr",
    ]
    static let organicSubset: Set<String> = ["B", "C", "N", "O", "S", "P", "F", "Cl", "Br", "I"]
    static let aromaticSubset: Set<String> = ["b", "al", "c", "si", "n", "p", "as", "o", "s", "se", "te"]

    /// selfies' "default" preset; "?" (every other atom) is 8.
    static let defaultConstraints: [String: Int] = [
        "H": 1, "F": 1, "Cl": 1, "Br": 1, "I": 1,
        "B": 3, "B+1": 2, "B-1": 4,
        "O": 2, "O+1": 3, "O-1": 1,
        "N": 3, "N+1": 4, "N-1": 2,
        "C": 4, "C+1": 3, "C-1": 3,
        "P": 5, "P+1": 4, "P-1": 6,
        "S": 6, "S+1": 5, "S-1": 5,
    ]

    static func capacity(element: String, charge: Int) -> Int {
        let key = charge == 0 ? element : element + (charge > 0 ? "+" : "-") + String(abs(charge))
        return defaultConstraints[key] ?? 8
    }

    static let indexAlphabet = [
        "[C]", "[Ring1]", "[Ring2]", "[Branch1]", "[=Branch1]", "[#Branch1]", "[Branch2]", "[=Branch2]", "[#Branch2]",
        "[O]", "[N]", "[=N]", "[=C]", "[#C]", "[S]", "[P]",
    ]
    static let indexCode: [String: Int] = Dictionary(uniqueKeysWithValues: indexAlphabet.enumerated().map { ($1, $0) })

    /// The index symbols of `index` (most significant first; `[C]` for 0).
    static func symbols(forIndex index: Int) -> [String] {
        if index <= 0 { return [indexAlphabet[0]] }
        var digits: [String] = []
        var rest = index
        while rest > 0 {
            digits.append(indexAlphabet[rest % 16])
            rest /= 16
        }
        return digits.reversed()
    }

    /// The index encoded by a run of symbols (unknown or missing symbols count 0).
    static func index(of symbols: [String?]) -> Int {
        var value = 0
        for symbol in symbols { value = value * 16 + (symbol.flatMap { indexCode[$0] } ?? 0) }
        return value
    }

    /// SMILES bond character → (order, stereo).
    static func bond(_ character: Character?) -> (order: Double, stereo: Character?) {
        switch character {
        case "/", "\\": return (1, character)
        case ":": return (1.5, nil)
        case "=": return (2, nil)
        case "#": return (3, nil)
        default: return (1, nil)
        }
    }
}
