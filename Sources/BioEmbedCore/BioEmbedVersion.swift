/// The release of BioEmbed, written into every output file as `bioembed_version`.
public enum BioEmbedVersion {
    public static let string = "0.1.0"
    /// The HDF5 layout version of docs/layout.md (`schema` = `bioembed/<collection>/<version>`).
    public static let layoutVersion = 1
    /// Collections whose layout changed since version 1: `fmri` 2 (each later stage's results are a
    /// nested collection with its own ids, failed subjects absent).
    static let changedLayouts = ["fmri": 2]

    /// The `schema` root attribute of a file whose collection is `collection`.
    public static func schema(of collection: String) -> String {
        "bioembed/\(collection)/\(changedLayouts[collection] ?? layoutVersion)"
    }
}
