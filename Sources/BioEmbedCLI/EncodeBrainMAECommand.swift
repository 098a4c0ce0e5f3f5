import BioEmbedCore
import ArgumentParser
import BioEmbedNN
import BioEmbedPipeline

/// `bioembed encode brainmae`: the `encode_brainmae` stage.
struct EncodeBrainMAECommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "brainmae", abstract: "BrainMAE-ref v0 embeddings of the /fmri time series.",
        discussion: "Example:\n  bioembed encode brainmae --weights bm.safetensors --config bm.json --input fmri.h5 --output emb.h5")
    @OptionGroup var options: EncoderOptions
    func run() throws { try options.run(AnyCollectionStage(BrainMAEEncodeStage(options.configuration))) }
}

extension EncodeBrainMAECommand: DeclaresStartupNeeds {
    var startupNeeds: StartupNeeds { BrainMAEEncodeStage.startupNeeds }
}
