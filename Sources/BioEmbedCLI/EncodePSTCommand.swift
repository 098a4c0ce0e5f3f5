import BioEmbedCore
import ArgumentParser
import BioEmbedNN
import BioEmbedPipeline

/// `bioembed encode pst`: the `encode_pst` stage.
struct EncodePSTCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pst", abstract: "PST (structure-aware ESM-2) embeddings of the /proteins chains.",
        discussion: "Example:\n  bioembed encode pst --weights pst_t6.safetensors --config pst_t6.json --input proteins.h5 --output emb.h5")
    @OptionGroup var options: EncoderOptions
    func run() throws { try options.run(AnyCollectionStage(PSTEncodeStage(options.configuration))) }
}

extension EncodePSTCommand: DeclaresStartupNeeds {
    var startupNeeds: StartupNeeds { PSTEncodeStage.startupNeeds }
}
