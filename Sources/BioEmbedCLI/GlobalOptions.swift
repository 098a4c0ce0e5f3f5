import ArgumentParser
import BioEmbedCore
import BioEmbedHDF5
import BioEmbedLinalg
import BioEmbedMolecule

/// Options every command takes: verbosity, progress display, thread cap.
struct GlobalOptions: ParsableArguments {
    @Flag(name: .shortAndLong, help: "Print debug details (BLAS kernels, per-item errors, timings).")
    var verbose = false

    @Flag(name: .shortAndLong, help: "Print errors only; no progress bar.")
    var quiet = false

    @Flag(inversion: .prefixedNo, help: "Force the progress bar on or off (default: on when stderr is a terminal).")
    var progress: Bool?

    @Option(help: "Cap BLAS and task threads (default: the CPUs available).")
    var threads: Int?

    /// The spellings of these options, with whether each takes a value: `CommandLineEntry` accepts
    /// them before the subcommand too (`bioembed --verbose run …`). Kept beside the declarations
    /// above; the CLI test walks every spelling through every command that has them.
    static let spellings: [String: Bool] = [
        "--verbose": false, "-v": false, "--quiet": false, "-q": false,
        "--progress": false, "--no-progress": false, "--threads": true,
    ]

    func validate() throws {
        if verbose && quiet { throw ValidationError("--verbose and --quiet exclude each other; pass one of them") }
        if let threads, threads < 1 { throw ValidationError("--threads: expected a positive number, found \(threads)") }
    }

    /// Applies verbosity and thread settings; call first in `run()`.
    func apply() {
        Diagnostics.level = quiet ? .error : (verbose ? .debug : .info)
        RDKit.setLogging(verbose)
        if let threads { BLASRuntime.setThreads(threads) }
        BLASRuntime.report()
    }

    var progressMode: ProgressReporter.Mode {
        if quiet { return .off }
        switch progress {
        case true?: return .on
        case false?: return .off
        case nil: return .auto
        }
    }
}

/// Runs a command body; an expected error (bad file, bad configuration) becomes one line on
/// stderr and exit code 1, never a stack dump.
func reportingErrors<T>(_ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch let error as HDF5Error where error.isStorageFull {
        Diagnostics.error(error.description)
        throw ExitCode(3)
    } catch let error as any BioEmbedError {
        Diagnostics.error(error.description)
        throw ExitCode(1)
    }
}

/// The command line as typed, for the `command` root attribute.
var commandLineText: String {
    CommandLine.arguments.map { argument in
        argument.contains(where: { " \"'$\\".contains($0) }) ? "'" + argument.replacingOccurrences(of: "'", with: "'\\''") + "'" : argument
    }.joined(separator: " ")
}
