import Foundation

/// A progress display for long work: a redrawn bar with counts, rate and ETA on a terminal, and
/// plain lines (at most every `interval` seconds) otherwise, so logs of batch jobs stay readable.
///
/// `mode` `.auto` draws only when standard error is a terminal; `--progress` forces it on,
/// `--quiet` off. Not thread-safe: the runner calls it from the thread that collects results.
public final class ProgressReporter {
    public enum Mode: Sendable { case auto, on, off }

    private let label: String
    private let total: Int
    private let enabled: Bool
    private let terminal: Bool
    private let interval: Double
    private let start = Date()
    private var lastDraw = Date.distantPast
    private(set) public var done = 0
    private(set) public var failed = 0

    public init(label: String, total: Int, mode: Mode = .auto, interval: Double = 10) {
        self.label = label
        self.total = total
        self.terminal = StandardError.isTerminal
        switch mode {
        case .auto: enabled = terminal && Diagnostics.level >= .info
        case .on: enabled = true
        case .off: enabled = false
        }
        self.interval = terminal ? 0.1 : interval
    }

    /// Counts one finished item (and whether it failed) and redraws when due.
    public func advance(failed itemFailed: Bool = false) {
        done += 1
        if itemFailed { failed += 1 }
        let now = Date()
        if enabled && (now.timeIntervalSince(lastDraw) >= interval || done == total) {
            lastDraw = now
            draw(now)
        }
    }

    /// Ends the display (a newline after a terminal bar).
    public func finish() {
        guard enabled else { return }
        draw(Date())
        if terminal { StandardError.write("\n") }
    }

    private func draw(_ now: Date) {
        let elapsed = max(now.timeIntervalSince(start), 1e-9)
        let rate = Double(done) / elapsed
        let remaining = total > done && rate > 0 ? Double(total - done) / rate : 0
        let counts = "\(done)/\(total)" + (failed > 0 ? " (\(failed) failed)" : "")
        let stats = String(format: "%.1f items/s, ETA %@", rate, Self.duration(remaining))
        if terminal {
            let width = 30
            let filled = total > 0 ? min(width, width * done / total) : width
            let bar = String(repeating: "=", count: filled) + String(repeating: " ", count: width - filled)
            StandardError.write("\r\u{1B}[2K\(label) [\(bar)] \(counts) \(stats)")
        } else {
            StandardError.write("\(label): \(counts) \(stats)\n")
        }
    }

    /// "42s", "3m07s", "1h02m".
    public static func duration(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        if s < 60 { return "\(s)s" }
        if s < 3600 { return String(format: "%dm%02ds", s / 60, s % 60) }
        return String(format: "%dh%02dm", s / 3600, (s % 3600) / 60)
    }
}

/// UTC timestamps in ISO 8601 (`2026-11-29T03:21:44Z`), as written to `created_utc`.
public enum Timestamp {
    public static func nowUTC() -> String {
        let formatter = ISO8601DateFormatter()
        formatter.timeZone = TimeZone(identifier: "UTC")
        return formatter.string(from: Date())
    }
}
