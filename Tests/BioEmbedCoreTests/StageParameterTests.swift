import Testing
@testable import BioEmbedCore

/// A parameter declared once: the flag, the help with its allowed values, unit and default, and the
/// check of allowed values all come from one `StageParameter`.
struct StageParameterTests {
    enum Side: String, CaseIterable { case left, right }

    @Test func flagAndHelpAreDerivedFromTheDeclaration() {
        let radius = StageParameter("min_length", .integer, default: 4, unit: "residues", help: "Shorter chains fail.")
        #expect(radius.flag == "--min-length")
        #expect(radius.fullHelp == "Shorter chains fail. Default: 4 residues.")
        #expect(radius.flagHelp == "Shorter chains fail. Unit: residues.")  // the argument parser adds the default itself
        #expect(radius.listing == "min_length (integer): Shorter chains fail. Default: 4 residues.")
    }

    @Test func choicesComeFromTheEnumAndAreChecked() throws {
        let side = StageParameter.choice("side", Side.self, default: .left, help: "Which side.")
        #expect(side.allowed == ["left", "right"] && side.type == .text && side.defaultText == "left")
        #expect(side.fullHelp == "Which side. One of: left, right. Default: left.")
        try side.check("right")
        #expect(throws: CoreError.invalidValue(name: "side", expected: "one of left, right", found: "'up'")) { try side.check("up") }
    }

    @Test func tableLookupByKey() {
        let table = [StageParameter("a", .boolean, help: "A."), StageParameter("b", .file, help: "B.")]
        #expect(table[key: "b"].type == .file)
    }
}
