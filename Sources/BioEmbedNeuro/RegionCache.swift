import Foundation

/// The atlas (or maps) read once and shared by every item of a run.
final class RegionCache: @unchecked Sendable {
    // @unchecked: `state` is only touched under `lock`.
    private let lock = NSLock()
    private let configuration: FMRIExtractStage.Configuration
    private var state: Result<(LabelAtlas?, [Int64]), NeuroError>?

    init(_ configuration: FMRIExtractStage.Configuration) { self.configuration = configuration }

    func load() throws(NeuroError) -> (atlas: LabelAtlas?, ids: [Int64]) {
        lock.lock()
        defer { lock.unlock() }
        if state == nil {
            state = Result { () throws(NeuroError) -> (LabelAtlas?, [Int64]) in
                if let path = configuration.atlas {
                    let atlas = try LabelAtlas(path)
                    return (atlas, atlas.regionIDs)
                }
                guard let maps = configuration.maps else {
                    throw NeuroError.invalidParameter(name: "atlas", expected: "an atlas or maps file", found: "neither")
                }
                let header = try NIfTIReader.header(of: maps)
                return (nil, (0..<header.volumeCount).map(Int64.init))
            }
        }
        return try state!.get()
    }

    func regionIDs() throws(NeuroError) -> [Int64] { try load().ids }
}
