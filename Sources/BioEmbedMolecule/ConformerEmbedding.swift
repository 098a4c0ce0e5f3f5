import BioEmbedCore
import CRDKitShim

/// Conformers of a molecule given as SMILES, made by RDKit's ETKDGv3 through the shim exactly as
/// Python's `AllChem.EmbedMultipleConfs(Chem.AddHs(Chem.MolFromSmiles(s)), n, params)` makes them
/// with `params = AllChem.ETKDGv3(); params.randomSeed = seed` (same C++ library, same seed, same
/// coordinates), optionally MMFF94-optimized (`AllChem.MMFFOptimizeMoleculeConfs`, 200 iterations).
public struct ConformerEmbedding: Sendable, Hashable, Codable {
    /// `randomSeed` of the embedding (a fixed seed makes the coordinates reproducible).
    public var seed: Int = 42
    /// Conformers per molecule (ids `<id>#c<k>`).
    public var conformers: Int = 1
    /// MMFF94 optimization of each conformer.
    public var mmff: Bool = false
    /// ETKDG `maxIterations` (embedding attempts); 0: RDKit's default.
    public var attempts: Int = 0
    /// Seconds one molecule may take to embed; 0: no limit.
    public var timeout: Double = 60

    public init(seed: Int = 42, conformers: Int = 1, mmff: Bool = false, attempts: Int = 0, timeout: Double = 60) {
        self.seed = seed
        self.conformers = conformers
        self.mmff = mmff
        self.attempts = attempts
        self.timeout = timeout
    }

    /// Throws when a value is out of range, naming its parameter.
    public func validate() throws(CoreError) {
        if seed < 0 || seed > Int(Int32.max) { throw .invalidValue(name: "seed", expected: "0...\(Int32.max)", found: "\(seed)") }
        if conformers < 1 || conformers > 10_000 { throw .invalidValue(name: "conformers", expected: "1...10000", found: "\(conformers)") }
        if attempts < 0 || attempts > Int(Int32.max) {
            throw .invalidValue(name: "embed_attempts", expected: "0 (RDKit's default) or more", found: "\(attempts)")
        }
        if !(timeout.isFinite && timeout >= 0) { throw .invalidValue(name: "embed_timeout", expected: "seconds ≥ 0", found: "\(timeout)") }
    }

    public enum Failure: Error, Sendable { case failed(String) }

    /// The MOL blocks (with hydrogens) of the conformers of `smiles`; a molecule without any
    /// conformer is an error that says why.
    public func molBlocks(_ smiles: String) throws(Failure) -> [String] {
        RDKit.configureLoggingOnce()
        guard let handle = berd_embed_smiles(smiles, Int32(seed), Int32(conformers), mmff ? 1 : 0, Int32(attempts), timeout) else {
            throw .failed("RDKit could not start the embedding")
        }
        defer { berd_embedding_free(handle) }
        let count = berd_embedding_count(handle)
        if count < 0 { throw .failed(String(cString: berd_embedding_error(handle))) }
        if count == 0 {
            throw .failed("no conformer: every ETKDGv3 embedding attempt failed (seed \(seed), \(attempts == 0 ? "RDKit's default number of" : String(attempts)) attempts); another --seed or more --embed-attempts may find one")
        }
        return (0..<count).map { String(cString: berd_embedding_molblock(handle, $0)) }
    }
}
