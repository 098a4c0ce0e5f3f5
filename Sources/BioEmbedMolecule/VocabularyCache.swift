import Synchronization

/// Loads the configured vocabulary once per stage value (several threads may ask at once).
final class VocabularyCache: Sendable {
    private let state = Mutex<MolT5Vocabulary?>(nil)

    func vocabulary(_ configuration: MoleculeTokenizeStage.Configuration) throws(MoleculeError) -> MolT5Vocabulary {
        if let cached = state.withLock({ $0 }) { return cached }
        var vocabulary = try configuration.vocab.map { (file) throws(MoleculeError) in try MolT5Vocabulary(file: file) } ?? .bundled
        vocabulary.bomID = Int32(configuration.bomID)
        vocabulary.eomID = Int32(configuration.eomID)
        state.withLock { $0 = vocabulary }
        return vocabulary
    }
}
