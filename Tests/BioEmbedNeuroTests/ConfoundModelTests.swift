import Foundation
import Testing
import _BioEmbedTestSupport

@testable import BioEmbedNeuro

/// load_confounds' selection rules on a synthetic fMRIPrep table (levels, presets, CompCor masks, n/a).
struct ConfoundModelTests {
    func table(masks: [String: String] = [:]) -> ConfoundsTable {
        var names: [String] = []
        for base in ["trans_x", "trans_y", "trans_z", "rot_x", "rot_y", "rot_z", "csf", "white_matter", "global_signal"] {
            names += [base, base + "_derivative1", base + "_power2", base + "_derivative1_power2"]
        }
        names += ["cosine00", "cosine01", "a_comp_cor_00", "a_comp_cor_01", "a_comp_cor_02", "t_comp_cor_00", "framewise_displacement"]
        var columns: [String: [Double]] = [:]
        for (i, n) in names.enumerated() {
            columns[n] = (0..<6).map { n.contains("derivative1") && $0 == 0 ? .nan : Double(i * 10 + $0 * $0) }
        }
        var t = ConfoundsTable(file: "c.tsv", names: names, columns: columns, rowCount: 6)
        t.compcorMasks = masks
        t.hasSidecar = !masks.isEmpty
        return t
    }

    @Test func levelsAndPresetsSelectNilearnsColumns() throws {
        let t = table()
        #expect(try ConfoundModel.preset("6p").columnNames(in: t).count == 6)
        #expect(try ConfoundModel.preset("24p").columnNames(in: t).count == 24)
        #expect(try ConfoundModel.preset("36p").columnNames(in: t).count == 36)
        #expect(try ConfoundModel.preset("9p").columnNames(in: t) == ["csf", "global_signal", "rot_x", "rot_y", "rot_z", "trans_x", "trans_y", "trans_z", "white_matter"])
        let power2 = ConfoundModel(strategy: ["wm_csf"], wmCSF: "power2")
        #expect(try power2.columnNames(in: t) == ["csf", "csf_power2", "white_matter", "white_matter_power2"])
        let derivatives = ConfoundModel(strategy: ["global_signal"], globalSignal: "derivatives")
        #expect(try derivatives.columnNames(in: t) == ["global_signal", "global_signal_derivative1"])
        // nilearn's default strategy: motion full + high_pass (cosines) + wm_csf basic.
        #expect(try ConfoundModel().columnNames(in: t).count == 24 + 2 + 2)
    }

    @Test func compcorFollowsTheSidecarMasks() throws {
        // as nilearn: CompCor needs high_pass, anatomical CompCor the sidecar JSON
        #expect(throws: NeuroError.self) { try ConfoundModel(strategy: ["compcor"]).columnNames(in: table()) }
        var model = ConfoundModel(strategy: ["high_pass", "compcor"])
        #expect(throws: NeuroError.self) { try model.columnNames(in: table()) }
        let masks = ["a_comp_cor_00": "CSF", "a_comp_cor_01": "WM", "a_comp_cor_02": "combined"]
        #expect(try model.columnNames(in: table(masks: masks)) == ["a_comp_cor_02", "cosine00", "cosine01"])
        model.compcor = "anat_separated"
        #expect(try model.columnNames(in: table(masks: masks)) == ["a_comp_cor_00", "a_comp_cor_01", "cosine00", "cosine01"])
        model.compcor = "temporal"
        #expect(try model.columnNames(in: table()) == ["cosine00", "cosine01", "t_comp_cor_00"])
    }

    @Test func derivativeNAIsBackFilledThenDemeaned() throws {
        let t = table()
        let (values, names, _) = try ConfoundModel(strategy: ["motion"], motion: "derivatives").matrix(from: t, volumes: 6)
        let j = names.firstIndex(of: "trans_x_derivative1")!
        let column = (0..<6).map { values[$0 * names.count + j] }
        let raw = [1.0, 1, 4, 9, 16, 25].map { $0 + 10 }  // first row takes the second's value
        let mean = raw.reduce(0, +) / 6
        #expect(column == raw.map { $0 - mean })
    }

    @Test func badSelectionsNameTheProblem() throws {
        #expect(throws: NeuroError.self) { try ConfoundModel(strategy: ["motion", "aroma"]).validate() }
        #expect(throws: NeuroError.self) { try ConfoundModel.preset("12p") }
        #expect(throws: NeuroError.self) { try ConfoundModel(strategy: ["motion"]).matrix(from: table(), volumes: 7) }
    }
}

/// Column selection against nilearn 0.14.1's `load_confounds` on the real fMRIPrep confounds files
/// it ships (fMRIPrep 1.x with 126 aCompCor components, the same without its sidecar, fMRIPrep 21):
/// `Tests/Fixtures/fmri/confounds/reference.json`, made by `scripts/fmri/confounds-reference.py`.
struct NilearnConfoundSelectionTests {
    struct Reference: Decodable {
        struct Case: Decodable {
            var strategy: [String]
            var motion: String?
            var wm_csf: String?
            var global_signal: String?
            var compcor: String?
            var n_compcor: Count?
        }
        enum Count: Decodable {
            case all, number(Int)
            init(from decoder: any Decoder) throws {
                let value = try decoder.singleValueContainer()
                if let n = try? value.decode(Int.self) { self = .number(n) } else { self = .all }
            }
        }
        struct Result: Decodable {
            var `case`: Case
            var columns: [String]?
            var error: String?
        }
        var files: [String: [Result]]
    }

    @Test func selectedColumnsEqualNilearns() throws {
        let folder = TestSupport.fixture("fmri/confounds")
        let data = try Data(contentsOf: URL(fileURLWithPath: folder + "/reference.json"))
        let reference = try JSONDecoder().decode(Reference.self, from: data)
        var compared = 0
        for (name, results) in reference.files.sorted(by: { $0.key < $1.key }) {
            let table = try ConfoundsTable.load(folder + "/\(name).tsv")
            for result in results {
                guard let expected = result.columns else { continue }  // nilearn refused (no sidecar for CompCor)
                let c = result.case
                var nCompcor: Int?
                if case let .number(n)? = c.n_compcor { nCompcor = n }
                let model = ConfoundModel(
                    strategy: c.strategy, motion: c.motion ?? "full", wmCSF: c.wm_csf ?? "basic", globalSignal: c.global_signal ?? "basic",
                    compcor: c.compcor ?? "anat_combined", nCompcor: nCompcor)
                #expect(try model.columnNames(in: table) == expected, "\(name): \(c.strategy) \(c.compcor ?? "") \(String(describing: nCompcor))")
                compared += 1
            }
        }
        #expect(compared >= 40)
    }
}
