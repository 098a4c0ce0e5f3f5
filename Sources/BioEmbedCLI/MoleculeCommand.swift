import ArgumentParser

/// `bioembed molecule`: the molecule stage family.
struct MoleculeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "molecule",
        abstract: "Molecule stages: SDF → SMILES, SELFIES, E3FP 3D tokens and 3D-MolT5 input ids.",
        discussion: """
            Examples:
              bioembed molecule tokenize --input examples/molecules/ --output out/molecules.h5
            """,
        subcommands: [MoleculeTokenizeCommand.self])
}
