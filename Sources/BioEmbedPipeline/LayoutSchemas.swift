import BioEmbedHDF5
import Foundation

/// The layout schemas of data-schemas/, as compiled into the binary.
public enum LayoutSchemas {
    /// Every schema, decoded. A schema that fails to decode is a build defect (tests catch it).
    public static let all: [CollectionSchema] = EmbeddedSchemas.files.keys.sorted().compactMap { name in
        try? JSONDecoder().decode(CollectionSchema.self, from: Data(EmbeddedSchemas.files[name]!.utf8))
    }

    /// The raw JSON text by file name (for the drift test).
    public static var sources: [String: String] { EmbeddedSchemas.files }

    public static var validator: SchemaValidator { SchemaValidator(schemas: all) }
}
