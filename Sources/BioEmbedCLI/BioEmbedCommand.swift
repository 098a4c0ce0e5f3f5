import ArgumentParser
import BioEmbedCore

/// `bioembed`: the root of the command tree (docs/layout.md).
struct BioEmbedCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bioembed",
        abstract: "Embeddings of fMRI, protein and molecule data at scale, written to HDF5.",
        discussion: """
            Runs whole pipelines over a manifest of inputs, or one stage at a time.

            Examples:
              bioembed run pipelines/demo.yaml                 # the demo over examples/
              bioembed run pipelines/demo.yaml --jobs 2 --output-dir out/mine
              bioembed inspect out/demo/files.h5               # what is in a file
              bioembed validate out/demo/files.h5              # check it against data-schemas/

            Exit codes: 0 every item done; 2 some items failed (listed in /errors);
            1 bad usage or configuration (nothing written); 3 nothing could be done.
            """,
        version: BioEmbedVersion.string,
        subcommands: [
            FMRICommand.self, ProteinCommand.self, MoleculeCommand.self, EncodeCommand.self, TrainCommand.self,
            RunCommand.self, SubmitCommand.self, StatusCommand.self, MergeCommand.self,
            InspectCommand.self, ValidateCommand.self, ExportCommand.self, ChecksumCommand.self,
        ])
}
