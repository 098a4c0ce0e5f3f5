import BioEmbedCore
import ArgumentParser
import BioEmbedNN
import BioEmbedPipeline

/// `bioembed encode molt5`: the `encode_molt5` stage.
struct EncodeMolT5Command: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "molt5", abstract: "3D-MolT5 encoder embeddings of the /molecules collection.",
        discussion: "Example:\n  bioembed encode molt5 --weights molt5.safetensors --config molt5.json --input mols.h5 --output emb.h5")
    @OptionGroup var options: EncoderOptions
    func run() throws { try options.run(AnyCollectionStage(MolT5EncodeStage(options.configuration))) }
}

extension EncodeMolT5Command: DeclaresStartupNeeds {
    var startupNeeds: StartupNeeds { MolT5EncodeStage.startupNeeds }
}
