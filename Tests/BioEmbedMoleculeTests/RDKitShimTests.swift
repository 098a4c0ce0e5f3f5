import Foundation
import Testing
import _BioEmbedTestSupport

@testable import BioEmbedMolecule

struct RDKitShimTests {
    struct Reference: Decodable {
        let smiles: String
        let smiles_atom_output_order: [Int]
    }

    @Test func linksDebianRDKit2022() {
        #expect(RDKit.version == "2022.09.3")
    }

    /// Kekulé canonical SMILES and atom order equal RDKit 2022.09.3's Python output (fixture).
    @Test(arguments: ["cdk2_000", "etkdg_aspirin", "etkdg_s_ibuprofen"])
    func canonicalSmilesMatchesTheReference(name: String) throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: TestSupport.fixture("molecules/reference_smiles.json")))
        let reference = try JSONDecoder().decode([String: Reference].self, from: data)[name]!
        let block = try String(contentsOfFile: TestSupport.fixture("molecules/\(name).sdf"), encoding: .utf8)
        let molecule = try RDKitMolecule(molBlock: block, file: name)
        #expect(molecule.smiles == reference.smiles)
        #expect(molecule.atomOutputOrder == reference.smiles_atom_output_order)
        #expect(molecule.atomCount == reference.smiles_atom_output_order.count)
    }

    @Test func rdkitFailuresComeBackAsErrorsNotCrashes() {
        #expect(throws: MoleculeError.self) { try RDKitMolecule(molBlock: "", file: "empty.sdf") }
        // Nitrogen with four bonds and no charge: a valence error in sanitization.
        let tetravalentNitrogen = "\n  RDKit\n\n  5  4  0  0  0  0  0  0  0  0999 V2000\n       0.0000    0.0000    0.0000 N   0  0  0  0  0  0  0  0  0  0  0  0\n       1.5000    0.0000    0.0000 C   0  0  0  0  0  0  0  0  0  0  0  0\n       3.0000    0.0000    0.0000 C   0  0  0  0  0  0  0  0  0  0  0  0\n       4.5000    0.0000    0.0000 C   0  0  0  0  0  0  0  0  0  0  0  0\n       6.0000    0.0000    0.0000 C   0  0  0  0  0  0  0  0  0  0  0  0\n  1  2  1  0\n  1  3  1  0\n  1  4  1  0\n  1  5  1  0\nM  END\n"
        do {
            _ = try RDKitMolecule(molBlock: tetravalentNitrogen, file: "bad.sdf", record: 3)
            Issue.record("expected an RDKit error")
        } catch {
            #expect(error.description.hasPrefix("bad.sdf: record 3: RDKit could not read the molecule"))
        }
        #expect(throws: MoleculeError.self) { try RDKitMolecule(molBlock: "garbage\nnot a molfile\n", file: "junk.sdf") }
    }
}
