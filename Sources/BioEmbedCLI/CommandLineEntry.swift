import ArgumentParser
import BioEmbedCore
import BioEmbedHDF5
import BioEmbedLinalg
import BioEmbedPipeline
import Foundation

/// A command that says what it needs from the process before it runs (BLAS kernels and threads,
/// RDKit's allocator). A command that does not conform needs nothing.
protocol DeclaresStartupNeeds {
    var startupNeeds: StartupNeeds { get }
}

/// `main`: parse, prepare the process for the parsed command, run, and map every error to the
/// exit codes of docs/layout.md.
///
/// Usage errors (unknown option or command, missing argument, bad value, a failed `validate()`)
/// exit 1 with one line naming the problem and the `--help` to read; ArgumentParser's own
/// default would be 64 and a usage block.
enum CommandLineEntry {
    /// The code of a usage error (docs/layout.md: 1, bad usage or configuration).
    static let usageExitCode: Int32 = 1

    static func main(_ arguments: [String] = Array(CommandLine.arguments.dropFirst())) -> Never {
        // Existing HDF5 files are read in a child process first (libhdf5 crashes on corrupt heaps).
        HDF5Probe.start(arguments)
        var command: any ParsableCommand
        let arguments = placingGlobalOptions(arguments)
        do {
            command = try BioEmbedCommand.parseAsRoot(arguments)
        } catch {
            exit(for: error, arguments: arguments)
        }
        BLASRuntime.start((command as? any DeclaresStartupNeeds)?.startupNeeds ?? [])
        do {
            try command.run()
        } catch {
            exit(for: error, arguments: arguments)
        }
        Foundation.exit(0)
    }

    /// Help and version go to stdout (exit 0), `ExitCode`s pass through, usage errors become one line.
    static func exit(for error: any Error, arguments: [String]) -> Never {
        let code = BioEmbedCommand.exitCode(for: error)
        if HDF5File.storageFailed {
            // A write failed for lack of space: libhdf5's exit-time cleanup would close files in a
            // state that crashes it, so the process ends without running exit handlers.
            fflush(nil)
            _exit(code.rawValue)
        }
        guard code == .validationFailure else { BioEmbedCommand.exit(withError: error) }
        let path = commandPath(arguments)
        let message = BioEmbedCommand.message(for: error)
            .split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty && !$0.hasPrefix("Usage:") && !$0.hasPrefix("See '") }
            .joined(separator: "; ")
        FileHandle.standardError.write(Data("error: \(message) (see '\(path.joined(separator: " ")) --help')\n".utf8))
        Foundation.exit(usageExitCode)
    }

    /// The command line with the global options (`GlobalOptions.spellings`) that stand before the
    /// subcommand moved after it: `bioembed --verbose protein tokenize …` means
    /// `bioembed protein tokenize --verbose …`. Everything after `--` is left alone.
    static func placingGlobalOptions(_ arguments: [String]) -> [String] {
        var moved: [String] = []
        var rest: [String] = []
        var current: any ParsableCommand.Type = BioEmbedCommand.self
        var index = 0
        while index < arguments.count {
            let word = arguments[index]
            if word == "--" { rest.append(contentsOf: arguments[index...]); break }
            if current.configuration.subcommands.isEmpty {
                rest.append(contentsOf: arguments[index...])
                break
            }
            if let takesValue = GlobalOptions.spellings[word.split(separator: "=", maxSplits: 1).first.map(String.init) ?? word] {
                moved.append(word)
                if takesValue && !word.contains("=") && index + 1 < arguments.count {
                    moved.append(arguments[index + 1])
                    index += 1
                }
            } else {
                if let next = current.configuration.subcommands.first(where: { $0._commandName == word }) { current = next }
                rest.append(word)
                if current.configuration.subcommands.isEmpty {
                    // The leaf command: its own arguments follow; the global options go first among them.
                    rest.append(contentsOf: moved)
                    moved = []
                }
            }
            index += 1
        }
        return rest + moved
    }

    /// The subcommands named on the command line, from the root down (`["bioembed", "encode", "pst"]`).
    static func commandPath(_ arguments: [String]) -> [String] {
        var path = [BioEmbedCommand._commandName]
        var current: any ParsableCommand.Type = BioEmbedCommand.self
        for word in arguments where !word.hasPrefix("-") {
            guard let next = current.configuration.subcommands.first(where: { $0._commandName == word }) else { continue }
            path.append(word)
            current = next
        }
        return path
    }
}
