import Foundation

/// Helpers shared by the test bundles (not API).
public enum TestSupport {
    /// A fresh, empty folder under the system temporary directory.
    public static func temporaryDirectory(_ label: String = "bioembed") -> String {
        let path = (NSTemporaryDirectory() as NSString).appendingPathComponent("\(label)-\(getpid())-\(UUID().uuidString.prefix(8))")
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// Where tests leave files for the reader-side (h5py) checks: `$BIOEMBED_TEST_ARTIFACTS`, or a temporary folder.
    public static func artifactsDirectory() -> String {
        if let path = ProcessInfo.processInfo.environment["BIOEMBED_TEST_ARTIFACTS"], !path.isEmpty {
            try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
            return path
        }
        return temporaryDirectory("bioembed-artifacts")
    }

    /// The repository root (found from this source file's location).
    public static var repositoryRoot: String {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }

    /// A file under `Tests/Fixtures`.
    public static func fixture(_ relativePath: String) -> String {
        (repositoryRoot as NSString).appendingPathComponent("Tests/Fixtures/" + relativePath)
    }

    /// Largest relative difference `|a-b| / max(|b|, floor)` over two arrays (∞ when the counts differ).
    public static func maxRelativeError(_ a: [Double], _ b: [Double], floor: Double = 1e-12) -> Double {
        guard a.count == b.count else { return .infinity }
        var worst = 0.0
        for (x, y) in zip(a, b) {
            if x.isNaN && y.isNaN { continue }
            worst = max(worst, abs(x - y) / max(abs(y), floor))
        }
        return worst
    }

    /// Deterministic pseudo-random numbers in [-1, 1) (SplitMix64), for reproducible test data.
    public struct SplitMix: Sendable {
        private var state: UInt64
        public init(seed: UInt64) { state = seed }
        public mutating func next() -> UInt64 {
            state &+= 0x9E3779B97F4A7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58476D1CE4E5B9
            z = (z ^ (z >> 27)) &* 0x94D049BB133111EB
            return z ^ (z >> 31)
        }
        public mutating func nextDouble() -> Double { Double(next() >> 11) / Double(1 << 53) * 2 - 1 }
        public mutating func doubles(_ count: Int) -> [Double] { (0..<count).map { _ in nextDouble() } }
    }
}
