import Foundation
import Synchronization

/// Messages for the user on standard error, filtered by verbosity.
///
/// `--quiet` shows errors only, the default shows warnings and notes, `--verbose` adds debug lines
/// (BLAS kernel, timings). Warnings are also counted so tests can assert them.
public enum Diagnostics {
    public enum Level: Int, Sendable, Comparable {
        case error = 0, warning = 1, info = 2, debug = 3
        public static func < (lhs: Level, rhs: Level) -> Bool { lhs.rawValue < rhs.rawValue }
    }

    private static let state = Mutex<(level: Level, warnings: [String])>((.info, []))

    /// The most detailed level that is printed.
    public static var level: Level {
        get { state.withLock { $0.level } }
        set { state.withLock { $0.level = newValue } }
    }

    /// Warnings emitted so far in this process (for tests).
    public static var warnings: [String] { state.withLock { $0.warnings } }

    public static func error(_ message: @autoclosure () -> String) { emit(.error, "error: " + message()) }
    public static func warning(_ message: @autoclosure () -> String) {
        let text = message()
        state.withLock { $0.warnings.append(text) }
        emit(.warning, "warning: " + text)
    }
    public static func info(_ message: @autoclosure () -> String) { emit(.info, message()) }
    public static func debug(_ message: @autoclosure () -> String) { emit(.debug, "debug: " + message()) }

    private static func emit(_ messageLevel: Level, _ text: @autoclosure () -> String) {
        guard messageLevel <= level else { return }
        StandardError.write(text() + "\n")
    }
}

/// Unbuffered writes to standard error (Glibc's `stderr` global is not usable in Swift 6 mode).
public enum StandardError {
    public static func write(_ text: String) {
        FileHandle.standardError.write(Data(text.utf8))
    }
    /// Whether standard error is a terminal (progress bars are drawn only then).
    public static var isTerminal: Bool { isatty(2) != 0 }
}
