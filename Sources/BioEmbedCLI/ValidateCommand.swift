import ArgumentParser
import BioEmbedCore
import BioEmbedHDF5
import BioEmbedPipeline

/// `bioembed validate F.h5`: checks a file against data-schemas/.
struct ValidateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Check an HDF5 file against the BioEmbed layout schemas (data-schemas/).",
        discussion: """
            Checks the root attributes, every known collection in the file (dtypes, shapes, offsets,
            unique ids, attributes), /errors and /provenance. Prints every problem and exits 1 when
            there is any.

            Example:
              bioembed validate out/demo/files.h5
            """)

    @Argument(help: "The HDF5 file.")
    var file: String

    @OptionGroup var global: GlobalOptions

    func run() throws {
        global.apply()
        let report = try reportingErrors { () throws -> SchemaValidator.Report in
            let handle = try HDF5File.open(file)
            defer { handle.close() }
            return LayoutSchemas.validator.validate(handle)
        }
        if report.isValid {
            let collections = report.collections.map { "\($0.path): \($0.items) items" }.joined(separator: ", ")
            print("\(file): valid (\(report.schema); \(collections))")
        } else {
            for problem in report.problems { Diagnostics.error("\(file): \(problem)") }
            Diagnostics.error("\(file): \(report.problems.count) problem\(report.problems.count == 1 ? "" : "s") against \(report.schema.isEmpty ? "the layout schemas" : report.schema)")
            throw ExitCode(1)
        }
    }
}
