import ArgumentParser
import BioEmbedHDF5

/// `bioembed inspect F.h5`: the tree of a file.
struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Show the groups, datasets (shape, dtype, chunks, filters) and attributes of an HDF5 file.",
        discussion: """
            Collections (groups with an `ids` dataset) also show their item count and first ids.

            Example:
              bioembed inspect out/demo/files.h5
            """)

    @Argument(help: "The HDF5 file.")
    var file: String

    @Option(help: "How many ids of each collection to show.")
    var ids: Int = 5

    @OptionGroup var global: GlobalOptions

    func run() throws {
        global.apply()
        let text = try reportingErrors { () throws -> String in
            let handle = try HDF5File.open(file)
            defer { handle.close() }
            return try HDF5Inspector.describe(handle, maxIDs: ids)
        }
        print(text)
    }
}
