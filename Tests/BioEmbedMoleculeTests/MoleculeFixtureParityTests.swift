import Foundation
import Testing
import _BioEmbedTestSupport

@testable import BioEmbedMolecule

/// The molecule fixture set (shared/fixtures/molecules, RDKit 2022.09.3 + selfies 2.x + e3fp
/// 1.2.7 reference): every field of every molecule must match exactly.
struct MoleculeFixtureParityTests {
    struct Fixture: Decodable {
        struct Meta: Decodable {
            let bom_id: Int32
            let eom_id: Int32
            let ft_max_len: Int
        }
        struct Molecule: Decodable {
            let name: String
            let smiles: String
            let smiles_atom_output_order: [Int]
            let selfies: String
            let selfies_tokens: [String]
            let atom_token_index: [Int]
            let fp_on_bits: [Int32]
            let atom_identifier_table: [[Int64]]
            let atom_fp_table: [[Int32]]
            let fp_rows: [[Int32]]
            let n_levels_run: Int
            let n_duplicate_remapped: Int
            let n_unmerged: Int
            let input_ids: [Int32]
            let molecule_fp_ids: [[Int32]]
            let input_ids_ft128: [Int32]
            let molecule_fp_ids_ft128: [[Int32]]
        }
        let meta: Meta
        let molecules: [Molecule]
    }

    static let fixture: Fixture = {
        let url = URL(fileURLWithPath: TestSupport.fixture("molecules/tokens.json"))
        return try! JSONDecoder().decode(Fixture.self, from: Data(contentsOf: url))
    }()

    static var names: [String] { fixture.molecules.map(\.name) }

    func tokens(_ name: String, maxLength: Int? = nil) throws -> MoleculeTokens {
        let path = TestSupport.fixture("molecules/\(name).sdf")
        let reader = try SDFReader(path: path)
        #expect(reader.records.count == 1)
        let record = try #require(reader.records.first)
        let molecule = try RDKitMolecule(molBlock: record.molBlock, file: path, record: 0)
        let tokenizer = MoleculeTokenizer(maxLength: maxLength)
        return try tokenizer.tokenize(molecule, file: path, record: 0, line: record.line)
    }

    @Test(arguments: names)
    func everyFieldMatches(name: String) throws {
        let reference = try #require(Self.fixture.molecules.first { $0.name == name })
        let result = try tokens(name)
        #expect(result.smiles == reference.smiles)
        #expect(result.atomOrder == reference.smiles_atom_output_order)
        #expect(result.selfies == reference.selfies)
        #expect(result.selfiesTokens == reference.selfies_tokens)
        #expect(result.atomTokenIndex == reference.atom_token_index)
        #expect(result.e3fpBits == reference.fp_on_bits)
        #expect(result.atomIdentifiers == reference.atom_identifier_table.flatMap { $0 })
        #expect(result.atomTokens == reference.atom_fp_table.flatMap { $0 })
        #expect(result.fpRows == reference.fp_rows.flatMap { $0 })
        #expect(result.levelsRun == reference.n_levels_run)
        #expect(result.remapped == reference.n_duplicate_remapped)
        #expect(result.unmerged == reference.n_unmerged)
        #expect(result.inputIDs == reference.input_ids)
        #expect(result.fpTokens == reference.molecule_fp_ids.flatMap { $0 })
    }

    /// The 128-token fine-tuning layout: truncation as the reference, then padding (id 0, rows −1).
    @Test(arguments: names)
    func fineTuningLayoutMatches(name: String) throws {
        let reference = try #require(Self.fixture.molecules.first { $0.name == name })
        let length = Self.fixture.meta.ft_max_len
        let result = try tokens(name, maxLength: length)
        #expect(result.inputIDs.count <= length)
        let padded = result.inputIDs + [Int32](repeating: MolT5Vocabulary.padID, count: length - result.inputIDs.count)
        let paddedRows = result.fpTokens + [Int32](repeating: -1, count: 4 * length - result.fpTokens.count)
        #expect(padded == reference.input_ids_ft128)
        #expect(paddedRows == reference.molecule_fp_ids_ft128.flatMap { $0 })
    }

    @Test func bundledVocabularyIsTheFixtureDictionaryWithTheReferenceSpecialIDs() throws {
        let lines = try String(contentsOfFile: TestSupport.repositoryRoot + "/data/molt5/selfies_dict.txt", encoding: .utf8)
            .split(separator: "\n").map(String.init)
        let vocabulary = MolT5Vocabulary.bundled
        #expect(vocabulary.tokenCount == lines.count)
        #expect(SelfiesVocabularyData.text.split(separator: "\n").map(String.init) == lines)
        #expect(vocabulary.ids["[C]"] == 33793)
        #expect(vocabulary.bomID == Self.fixture.meta.bom_id)
        #expect(vocabulary.eomID == Self.fixture.meta.eom_id)
    }
}
