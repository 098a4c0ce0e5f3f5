import Synchronization

/// The parcellation read once and shared by every item of a run.
final class RegionCache: Sendable {
    private let configuration: FMRIExtractStage.Configuration
    private let state = Mutex<Result<Parcellation, NeuroError>?>(nil)

    init(_ configuration: FMRIExtractStage.Configuration) { self.configuration = configuration }

    func load() throws(NeuroError) -> Parcellation {
        try state.withLock { state in
            if state == nil {
                state = Result { () throws(NeuroError) in try Parcellation.load(atlas: configuration.atlas, maps: configuration.maps) }
            }
            return state!
        }.get()
    }

    func regionIDs() throws(NeuroError) -> [Int64] { try load().regionIDs }
}
