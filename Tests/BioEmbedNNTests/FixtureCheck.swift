import BioEmbedHDF5
import Testing

/// Comparison helpers for the encoder parity tests.
enum FixtureCheck {
    /// Largest |a − b| − rtol·|b| excess over atol (≤ 0 passes); records a failure naming `what`.
    static func expectClose(_ a: [Float], _ b: [Float], atol: Double, rtol: Double = 0, _ what: String) {
        #expect(a.count == b.count, "\(what): \(a.count) values, expected \(b.count)")
        guard a.count == b.count else { return }
        var worst = 0.0, worstIndex = 0
        for i in 0..<a.count {
            let excess = abs(Double(a[i]) - Double(b[i])) - (atol + rtol * abs(Double(b[i])))
            if excess > worst || (a[i].isNaN != b[i].isNaN) { worst = max(worst, excess.isNaN ? .infinity : excess); worstIndex = i }
        }
        #expect(worst <= 0, "\(what): |Δ| exceeds \(atol) + \(rtol)·|b| by \(worst) at index \(worstIndex) (\(a[worstIndex]) vs \(b[worstIndex]))")
    }

    static func floats(_ group: HDF5Group, _ name: String) throws -> [Float] { try group.dataset(name).read(as: Float.self) }
    static func ints(_ group: HDF5Group, _ name: String) throws -> [Int32] { try group.dataset(name).read(as: Int32.self) }
}
