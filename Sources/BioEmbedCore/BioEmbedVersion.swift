/// The release of BioEmbed, written into every output file as `bioembed_version`.
public enum BioEmbedVersion {
    public static let string = "0.1.0"
    /// The HDF5 layout version of docs/layout.md (`schema` = `bioembed/<collection>/<layoutVersion>`).
    public static let layoutVersion = 1
}
