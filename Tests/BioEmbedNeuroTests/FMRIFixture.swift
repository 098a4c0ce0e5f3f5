import BioEmbedCore
import BioEmbedHDF5
import BioEmbedLinalg
import Foundation
import _BioEmbedTestSupport

/// The nilearn reference set: `Tests/Fixtures/fmri` (sub-01 only), or the full folder named by
/// `$BIOEMBED_FMRI_FIXTURES` (e.g. the shared fixture folder with all subjects). Parameters (TR,
/// band, confound model, window, density) are read from the reference file, never hard-coded.
struct FMRIFixture {
    let root: String
    let reference: HDF5File

    init() throws {
        if let env = ProcessInfo.processInfo.environment["BIOEMBED_FMRI_FIXTURES"], !env.isEmpty {
            root = env
        } else {
            root = TestSupport.fixture("fmri")
        }
        reference = try HDF5File.open(root + "/nilearn_reference.h5")
    }

    func path(_ relative: String) -> String { root + "/" + relative }

    /// Subjects whose BOLD file is present.
    func subjects() throws -> [String] {
        try reference.root.children().map(\.name).filter { $0.hasPrefix("sub-") }.sorted().filter { name in
            let bold = try reference.root.group(name).stringAttribute("bold")
            return FileManager.default.fileExists(atPath: path(bold))
        }
    }

    func matrix(_ name: String) throws -> Matrix<Double> {
        let d = try reference.root.dataset(name)
        let shape = d.shape
        return Matrix(rows: shape[0], columns: shape.dropFirst().reduce(1, *), storage: try d.read(as: Double.self))
    }

    func array(_ name: String) throws -> [Double] { try reference.root.dataset(name).read(as: Double.self) }

    func json(_ object: String, attribute: String) throws -> [String: Any] {
        let node = object.isEmpty ? reference.root : try reference.root.group(object)
        let text = try node.stringAttribute(attribute)
        return try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] ?? [:]
    }

    func exists(_ name: String) -> Bool { reference.root.kind(of: name) != nil }

    /// max |a − b| / std(b column), the README's measure for time series.
    static func errorRelativeToColumnStd(_ a: Matrix<Double>, _ b: Matrix<Double>) -> Double {
        guard a.rows == b.rows, a.columns == b.columns else { return .infinity }
        var worst = 0.0
        for j in 0..<b.columns {
            var mean = 0.0
            for i in 0..<b.rows { mean += b[i, j] }
            mean /= Double(b.rows)
            var ss = 0.0
            for i in 0..<b.rows { ss += (b[i, j] - mean) * (b[i, j] - mean) }
            let sd = max((ss / Double(max(1, b.rows - 1))).squareRoot(), 1e-12)
            for i in 0..<b.rows { worst = max(worst, abs(a[i, j] - b[i, j]) / sd) }
        }
        return worst
    }

    static func maxAbs(_ a: [Double], _ b: [Double]) -> Double {
        guard a.count == b.count else { return .infinity }
        return zip(a, b).reduce(0) { max($0, abs($1.0 - $1.1)) }
    }
}

extension MetadataValue {
    /// The value as an integer (int, single-element ints, or integral double).
    var intValue: Int64? {
        switch self {
        case let .int(v): v
        case let .ints(v): v.count == 1 ? v[0] : nil
        case let .double(v): v == v.rounded() ? Int64(v) : nil
        default: nil
        }
    }
    var doubleValue: Double? {
        switch self {
        case let .int(v): Double(v)
        case let .double(v): v
        case let .doubles(v): v.count == 1 ? v[0] : nil
        default: nil
        }
    }
}
