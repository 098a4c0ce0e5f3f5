import ArgumentParser
import BioEmbedCore
import BioEmbedPipeline

/// `bioembed export netcdf|notebook`.
struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Export results for other tools: NetCDF-4 (xarray) or a Jupyter notebook.",
        subcommands: [NetCDF.self, Notebook.self])

    struct NetCDF: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "netcdf",
            abstract: "Write the /fmri time series and connectivity as NetCDF-4 with named dimensions.",
            discussion: """
                Dimensions subject, time, region, region_j; runs shorter than the longest are padded
                with NaN (n_time gives each length).

                Example:
                  bioembed export netcdf out/fmri/fmri.h5 --output out/fmri/fmri.nc
                  python -c "import xarray; print(xarray.open_dataset('out/fmri/fmri.nc'))"
                """)

        @Argument(help: "A BioEmbed HDF5 file with an /fmri collection.")
        var input: String

        @Option(help: "The NetCDF file to write.")
        var output: String

        @OptionGroup var global: GlobalOptions

        func run() throws {
            global.apply()
            try reportingErrors { try NetCDFExport.export(input, to: output) }
            Diagnostics.info("wrote \(output)")
        }
    }

    struct Notebook: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "notebook",
            abstract: "Write a Jupyter notebook (nbformat 4.5) that loads a run's HDF5 files with h5py and plots them.",
            discussion: """
                For a run folder, every .h5 file in it; for one file, that file. The notebook shows
                what to look at first: connectivity heatmap and degree distribution, 3Di token
                composition and contact map of one chain, token lengths of molecules, a 2-D
                projection of each embedding set.

                Examples:
                  bioembed export notebook out/demo --output out/demo/report.ipynb
                  jupyter execute --output=report_run out/demo/report.ipynb
                """)

        @Argument(help: "A run folder or one HDF5 file.")
        var input: String

        @Option(help: "The notebook to write (.ipynb).")
        var output: String

        @OptionGroup var global: GlobalOptions

        func run() throws {
            global.apply()
            let sections = try reportingErrors { try NotebookExport.export(input, to: output) }
            Diagnostics.info("wrote \(output) (\(sections.joined(separator: ", ")))")
        }
    }
}
