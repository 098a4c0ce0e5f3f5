/// The regions a run is reduced to, by the format of the atlas file: a NIfTI label image, NIfTI
/// probabilistic maps, GIFTI label files per hemisphere, or a CIFTI-2 label file.
public enum Parcellation: Sendable {
    case volume(LabelAtlas)
    /// Probabilistic maps (the path; read per run, as their grid must equal the run's).
    case maps(String, count: Int)
    case surface(SurfaceAtlas)
    case cifti(CIFTIAtlas)

    /// The format of a BOLD or atlas file, from its name.
    public enum Format: String, Sendable {
        case nifti = "NIfTI", gifti = "GIFTI", cifti = "CIFTI-2"

        public init(path: String) {
            let name = path.lowercased()
            if name.hasSuffix(".gii") || name.hasSuffix(".gii.gz") { self = .gifti }
            else if [".dtseries.nii", ".dlabel.nii", ".dscalar.nii", ".ptseries.nii", ".pconn.nii", ".dconn.nii"].contains(where: { name.hasSuffix($0) || name.hasSuffix($0 + ".gz") }) {
                self = .cifti
            } else { self = .nifti }
        }
    }

    /// Reads the atlas (`atlas`, labels in any format) or the maps' header (`maps`).
    public static func load(atlas: String?, maps: String?) throws(NeuroError) -> Parcellation {
        if let atlas {
            switch Format(path: atlas) {
            case .nifti: return .volume(try LabelAtlas(atlas))
            case .gifti: return .surface(try SurfaceAtlas(atlas))
            case .cifti: return .cifti(try CIFTIAtlas(atlas))
            }
        }
        guard let maps else {
            throw NeuroError.invalidParameter(name: "atlas", expected: "an atlas or maps file", found: "neither")
        }
        guard Format(path: maps) == .nifti else {
            throw NeuroError.invalidParameter(name: "maps", expected: "probabilistic maps as a 4D NIfTI image", found: "a \(Format(path: maps).rawValue) file (\(maps))")
        }
        return .maps(maps, count: try NIfTIReader.header(of: maps).volumeCount)
    }

    public var regionIDs: [Int64] {
        switch self {
        case let .volume(atlas): atlas.regionIDs
        case let .maps(_, count): (0..<count).map(Int64.init)
        case let .surface(atlas): atlas.regionIDs
        case let .cifti(atlas): atlas.regionIDs
        }
    }

    /// The `masker` attribute of `/fmri`.
    public var masker: String {
        switch self {
        case .volume: "labels"
        case .maps: "maps"
        case .surface: "surface-labels"
        case .cifti: "cifti-labels"
        }
    }

    /// The format BOLD runs must have for this atlas.
    public var boldFormat: Format {
        switch self {
        case .volume, .maps: .nifti
        case .surface: .gifti
        case .cifti: .cifti
        }
    }
}
