import BioEmbedHDF5
import Foundation
import _BioEmbedTestSupport

/// The reference values of one fixture structure file (a group of `proteins.h5`).
struct ProteinReference {
    var group: String
    var path: String
    var chainNames: [String]
    var chainOffsets: [Int]
    var resName: [String]
    var resSeq: [Int32]
    var resIcode: [String]
    var ca: [Double], n: [Double], c: [Double], cb: [Double]
    var seq: [String]
    var tdiFoldseek: [String]
    var tdiLastAlt: [String]
    var radiusEdges: [Int32]
    var knnIndex: [Int32]
    var knnWidth: Int
}

/// Fixture folders with `proteins.h5` + `structures/`: the committed set in `Tests/Fixtures/proteins`,
/// plus a larger folder of the same layout only when `$BIOEMBED_PROTEIN_FIXTURES` names one (opt-in).
enum ProteinFixtures {
    static var roots: [String] {
        var roots = [TestSupport.fixture("proteins")]
        if let extra = ProcessInfo.processInfo.environment["BIOEMBED_PROTEIN_FIXTURES"], !extra.isEmpty { roots.append(extra) }
        return roots
    }

    static func load(root: String) throws -> [ProteinReference] {
        let file = try HDF5File.open((root as NSString).appendingPathComponent("proteins.h5"))
        defer { file.close() }
        var result: [ProteinReference] = []
        for (name, _) in try file.root.children() {
            let g = try file.root.group(name)
            let relative = try g.stringAttribute("file")
            let path = (root as NSString).appendingPathComponent(relative)
            guard FileManager.default.fileExists(atPath: path) else { continue }
            let knn = try g.dataset("knn10_idx")
            result.append(ProteinReference(
                group: name, path: path,
                chainNames: try g.dataset("chain_names").readStrings(),
                chainOffsets: try g.dataset("chain_offsets").read(as: Int32.self).map(Int.init),
                resName: try g.dataset("res_name").readStrings(),
                resSeq: try g.dataset("res_seq").read(as: Int32.self),
                resIcode: try g.dataset("res_icode").readStrings(),
                ca: try g.dataset("ca").read(as: Double.self), n: try g.dataset("n").read(as: Double.self),
                c: try g.dataset("c").read(as: Double.self), cb: try g.dataset("cb").read(as: Double.self),
                seq: try g.dataset("seq").readStrings(),
                tdiFoldseek: try g.dataset("tdi_foldseek").readStrings(),
                tdiLastAlt: try g.dataset("tdi_foldseek_lastalt").readStrings(),
                radiusEdges: try g.dataset("radius8_edges").read(as: Int32.self),
                knnIndex: try knn.read(as: Int32.self),
                knnWidth: knn.shape.count > 1 ? knn.shape[1] : 10))
        }
        return result
    }
}
