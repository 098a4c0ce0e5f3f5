import ArgumentParser
import BioEmbedCore
import BioEmbedNN
import BioEmbedPipeline

/// `bioembed encode brainmae|pst|molt5`: the encoder stages on a collection file.
struct EncodeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "encode",
        abstract: "Neural embeddings of a collection: /fmri (brainmae), /proteins (pst), /molecules (molt5).",
        discussion: """
            Reads the collection from --input and writes /embeddings/<model> (ids, pooled [N,D],
            per_token + per_token_offsets) to --output. --input and --output may be the same file.
            Weights are safetensors files (scripts/convert_checkpoint.py converts PyTorch checkpoints);
            the config is the model's config.json.

            Examples:
              bioembed encode pst --weights pst_t6.safetensors --config pst_t6.json --input proteins.h5 --output proteins.h5
              bioembed encode molt5 --weights molt5.safetensors --config molt5.json --input mols.h5 --output emb.h5 --pooling nonpad
              bioembed encode brainmae --weights bm.safetensors --config bm.json --input fmri.h5 --output emb.h5 --threads 4
            """,
        subcommands: [EncodePSTCommand.self, EncodeMolT5Command.self, EncodeBrainMAECommand.self])
}
