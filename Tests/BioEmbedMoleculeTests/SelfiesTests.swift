import Testing

@testable import BioEmbedMolecule

/// SELFIES behaviour of the `selfies` 2.x package (the expected strings are the package's own
/// documented and tested outputs; tests/test_specific_cases.py of aspuru-guzik-group/selfies).
struct SelfiesTests {
    @Test(arguments: [
        ("[C][=C][F]", "C=CF"),
        ("[Branch3][C][S][C][O]", "CSCO"),
        ("[Ring3][C][S][C][O]", "CSCO"),
        ("[Branch1][Ring1][Ring3][C][S][C][O]", "CSCO"),
        ("[C][C][O][Branch1][C][I]", "CCOCI"),
        ("[C][C][C][O][#Branch3][C][I]", "CCCOCI"),
        ("[C][C][C][Ring1][Ring1][#C]", "C1CC1=C"),
        ("[C][=C][C][C][#Ring1][Ring1][#C]", "C=C1CC1"),
        ("[C][O][C][C][=Ring1][Ring1][#C]", "COCCC"),
        ("[C][=C][Branch1][C][=C][#C]", "C=C(C)C"),
        ("[C][C][C][C][Branch1]", "CCCC"),
        ("[C][C][C][C][C][Ring1]", "CCCC=C"),
        ("[C][Branch1][Ring2][Branch1][Branch1][Branch1][F]", "CF"),
        ("[C][=Branch1][Ring2][Branch1][C][Cl][F]", "C(Cl)F"),
        ("[C][C][C][C][#Branch3][O][O]", "CCCC"),
        ("[C][Branch2][O][O][C][C][S][F][C]", "CCCSF"),
        ("[C][#Branch2][O][O][#C][C][S][F]", "C#CCSF"),
        ("[C][C][C][C][Ring1][O]", "C1CCC1"),
        ("[C][C][C][C][Ring2][O][C]", "C1CCC1"),
        ("[C][C][C][C][Ring2][O]", "C1CCC1"),
        ("[C][Ring1][O]", "C"),
        ("[C@][=Branch1][Branch1][Branch1][C][Br][Cl][F]", "[C@](Br)(Cl)F"),
        ("[C@][#Branch1][Branch2][=Branch1][Branch1][Branch1][C][Br][Cl][I][F]", "[C@](Br)(Cl)(I)F"),
        ("[C][C][C][C][C][=Branch1][Branch1][Ring1][Ring2][C][Cl][F]", "CC1CCC1(CCl)F"),
        ("[C][C][Ring1][C]", "C=C"),
        ("[C][/C][Ring1][C]", "C=C"),
        ("[C][C][=Ring1][C]", "C#C"),
        ("[C][36Cl][C]", "C[36Cl]"),
        ("[CH1][Branch1][C][Cl][#C]", "[CH1](Cl)=C"),
        ("[CH3][=C]", "[CH3]C"),
        ("[CH4][C][C]", "[CH4]"),
        ("[C][C][C][CH4]", "CCC"),
        ("[C][Branch1][Ring2][C][=CH4][C][=C]", "C(C)=C"),
        // The package's test sets Sn+4 → 1 and O-2 → 2; under the default constraints ("?" = 8):
        ("[Sn+4][=C]", "[Sn+4]=C"),
        ("[O-2][#C]", "[O-2]#C"),
        ("[17O@@H1-2][#C]", "[17O@@H1-2]#C"),
        ("[N][#C+1][#NH1][#C@H1]", "N#[C+1]"),
        ("[O+1][=P+1][#P-1][#C@@]", "[O+1]=[P+1]=[P-1]#[C@@]"),
        ("[=C-1][#S+1][#B]", "[C-1]#[S+1]=B"),
        ("[C][O][C].[N][C]", "COC.NC"),
        ("[C][C][nop][O]", "CCO"),
    ])
    func decoderMatchesThePackage(selfies: String, smiles: String) throws {
        #expect(try SelfiesDecoder(selfies).smiles == smiles)
    }

    @Test(arguments: [
        ("C=CF", "[C][=C][F]"),
        ("[C][O][N][P][F]", "[CH0][OH0][NH0][PH0][FH0]"),
        ("[Fe][Si]", "[Fe][Si]"),
        ("[Fe++][Fe+2]", "[Fe+2][Fe+2]"),
        ("[CH][CH1]", "[CH1][CH1]"),
        ("CC(C)C(=O)COC1=NC(N)=NC2=C1N=CN2",
         "[C][C][Branch1][C][C][C][=Branch1][C][=O][C][O][C][=N][C][Branch1][C][N][=N][C][=C][Ring1][#Branch1][N][=C][N][Ring1][Branch1]"),
        ("[Na+].[Cl-]", "[Na+1].[Cl-1]"),
    ])
    func encoderMatchesThePackage(smiles: String, selfies: String) throws {
        #expect(try Selfies.encode(smiles) == selfies)
    }

    @Test func strictModeRejectsConstraintViolationsAndNonStrictEncodes() throws {
        // Pentavalent carbon: the default constraints allow 4 bonds.
        #expect(throws: SelfiesError.self) { try Selfies.encode("C(C)(C)(C)(C)C") }
        let relaxed = try Selfies.encode("C(C)(C)(C)(C)C", strict: false)
        #expect(try Selfies.encodeLikeReference("C(C)(C)(C)(C)C") == relaxed)
        #expect(throws: SelfiesError.self) { try Selfies.encode("C*C") }
        #expect(throws: SelfiesError.self) { try Selfies.encode("c1ccccc1") }
        #expect(throws: SelfiesError.self) { try Selfies.encode("CC(") }
    }

    @Test func splitKeepsDots() {
        #expect(Selfies.split("[C][=C][F].[C]") == ["[C]", "[=C]", "[F]", ".", "[C]"])
        #expect(Selfies.split("") == [])
    }

    /// Ring closures and stereo survive encode → decode (RDKit's canonical SMILES of both agree).
    @Test(arguments: [
        "C1=CC=C(C=C1)C(=O)O", "C/C=C/C1=CC=CC=C1", "C[C@H](N)C(=O)O", "N[C@@H]1CCC[C@H]1O",
        "C1CC2CCC1C2", "O=C1C=CC(=O)C=C1", "[NH3+]CC(=O)[O-]", "F/C=C\\F", "C1CCC2(CC1)CCCC2",
    ])
    func roundTripThroughRDKit(smiles: String) throws {
        let kekule = try #require(RDKit.canonicalSmiles(smiles, kekule: true))
        let decoded = try SelfiesDecoder(Selfies.encode(kekule)).smiles
        #expect(RDKit.canonicalSmiles(decoded) == RDKit.canonicalSmiles(smiles))
    }

    /// The alignment: one token per atom, the atom-producing symbols in atom order.
    @Test func attributionGivesOneTokenPerAtom() throws {
        let decoder = try SelfiesDecoder("[C][C][Branch1][C][C][C][=Branch1][C][=O][C]")
        #expect(decoder.atomTokenIndices == [0, 1, 4, 5, 8, 9])
        // A ring closure written as a double bond has no attribution: the reference's attribution_fail.
        #expect(try SelfiesDecoder("[C][=C][C][=C][C][=C][Ring1][=Branch1]").atomTokenIndices != nil)
        #expect(try SelfiesDecoder("[C][C][C][C][=Ring1][Ring2]").atomTokenIndices == nil)
    }
}

struct MurmurHashTests {
    /// Reference values of mmh3.hash(bytes, 0) (signed) for little-endian int64 arrays.
    @Test func knownVectors() {
        #expect(MurmurHash3.x86_32(int64s: []) == 0)
        // Level-0 E3FP identifier of cdk2_000's first atom (a CH3 carbon: Z 6, degree 4, 3 H, 0, 0, not in ring).
        #expect(MurmurHash3.x86_32(int64s: [6, 4, 3, 0, 0, 0]) == -1281142596)
    }
}
