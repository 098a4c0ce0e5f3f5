import ArgumentParser
import BioEmbedCore
import BioEmbedPipeline
import Foundation

/// `bioembed checksum`: the `checksum` stage on files given on the command line.
struct ChecksumCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "checksum",
        abstract: "Fingerprint files: size, SHA-256, byte histogram and per-block CRC-32 (the demo's stage).",
        discussion: """
            The same stage as `stage: checksum` in a pipeline file, with the same parameters as flags.

            Examples:
              bioembed checksum --input examples/ --output out/files.h5
              bioembed checksum --input 'data/*.nii.gz' --block-size 1048576 --output files.h5
            """)

    @Option(name: .long, parsing: .upToNextOption, help: "Files, folders (searched recursively) or glob patterns.")
    var input: [String]

    @Option(help: "The HDF5 file to write (replaced when complete).")
    var output: String

    @Option(help: .parameter("block_size", of: FileChecksumStage.Configuration.self))
    var blockSize = FileChecksumStage.Configuration.defaultBlockSize

    @Flag(inversion: .prefixedNo, help: .parameter("decompress", of: FileChecksumStage.Configuration.self))
    var decompress = true

    @Option(help: "Items processed at once.")
    var jobs: Int = 1

    @OptionGroup var global: GlobalOptions

    func validate() throws {
        if blockSize < 1 { throw ValidationError("--block-size: expected a positive number of bytes, found \(blockSize)") }
        if jobs < 1 { throw ValidationError("--jobs: expected a positive number, found \(jobs)") }
    }

    func run() throws {
        global.apply()
        let stage = AnyStage(FileChecksumStage(.init(blockSize: blockSize, decompress: decompress)))
        try runStageCommand(stage, inputs: input, output: output, jobs: jobs, global: global)
    }
}

extension ChecksumCommand: DeclaresStartupNeeds {
    var startupNeeds: StartupNeeds { FileChecksumStage.startupNeeds }
}
