/// The 3D-MolT5 molecule tokenization (molt5.md §2–3) over an RDKit molecule: kekulé SMILES →
/// SELFIES (strict, then non-strict) → token↔atom alignment from the decoder's attribution →
/// E3FP shells → per-token 3D rows → `<bom> SELFIES <eom> </s>` ids.
///
/// Where the reference silently drops a molecule or gives it all −1 rows (SELFIES failure,
/// out-of-vocabulary token, attribution failure or count mismatch), this throws a
/// `MoleculeError.record` saying why, so the item lands in `/errors`.
public struct MoleculeTokenizer: Sendable {
    public var vocabulary: MolT5Vocabulary
    public var e3fp: E3FP
    /// `max_seq_len` truncation (keep `maxLength − 1` ids, then `</s>`); nil = no truncation.
    public var maxLength: Int?

    public init(vocabulary: MolT5Vocabulary = .bundled, e3fp: E3FP = E3FP(), maxLength: Int? = nil) {
        self.vocabulary = vocabulary
        self.e3fp = e3fp
        self.maxLength = maxLength
    }

    /// Tokenizes one parsed molecule. `file`/`record`/`line` name it in errors.
    public func tokenize(_ molecule: RDKitMolecule, file: String, record: Int, line: Int) throws(MoleculeError) -> MoleculeTokens {
        func fail(_ reason: String) -> MoleculeError { .record(file: file, record: record, line: line, reason: reason) }
        guard molecule.atomCount > 0 else { throw fail("the molecule has no atoms") }
        guard molecule.conformerDimension == 3, molecule.coordinates.count == 3 * molecule.atomCount else {
            throw fail(molecule.conformerDimension == 0
                ? "no conformer: expected 3D coordinates"
                : "no 3D coordinates (RDKit marks the conformer 2D: a 2D header, or no dimension code and all z = 0); expected a 3D conformer")
        }
        let selfies: String, tokens: [String]
        do {
            (selfies, tokens) = try Selfies.encodeTokensLikeReference(molecule.smiles)
        } catch {
            throw fail("\(error)")
        }
        var ids: [Int32] = [vocabulary.bomID]
        ids.reserveCapacity(tokens.count + 3)
        var missing: [String] = []
        for token in tokens {
            if let id = vocabulary.ids[token] { ids.append(id) } else { missing.append(token) }
        }
        if !missing.isEmpty {
            throw fail("SELFIES token(s) \(Array(Set(missing)).sorted().joined(separator: " ")) not in the 3D-MolT5 vocabulary (the reference drops such molecules)")
        }
        let decoded: SelfiesDecoder
        do {
            decoded = try SelfiesDecoder(symbols: tokens, selfies: selfies)
        } catch {
            throw fail("SELFIES '\(selfies)' cannot be decoded: \(error)")
        }
        guard let atomTokens = decoded.atomTokenIndices else {
            throw fail("SELFIES decoder gives no attribution for a ring-bond token (the reference's attribution_fail)")
        }
        guard atomTokens.count == molecule.atomCount, atomTokens.allSatisfy({ $0 >= 0 && $0 < tokens.count }) else {
            throw fail("SELFIES decodes to \(atomTokens.count) atoms, RDKit has \(molecule.atomCount) (the reference's attribution_count_mismatch)")
        }
        // E3FP's RDKit invariants per atom, hashed for level 0 (one flat buffer, no array per atom)
        var invariants = [Int64](repeating: 0, count: 6 * molecule.atomCount)
        for (k, atom) in molecule.atoms.enumerated() {
            invariants[6 * k] = Int64(atom.atomicNumber)
            invariants[6 * k + 1] = Int64(atom.totalDegree)
            invariants[6 * k + 2] = Int64(atom.totalHydrogens)
            invariants[6 * k + 3] = Int64(atom.formalCharge)
            invariants[6 * k + 4] = Int64(atom.deltaMass)
            invariants[6 * k + 5] = atom.isInRing ? 1 : 0
        }
        let fingerprint: E3FPResult
        do {
            fingerprint = try invariants.withUnsafeBufferPointer { flat throws(MoleculeError) in
                try e3fp.fingerprint(
                    atomicNumbers: molecule.atoms.map(\.atomicNumber), bonds: molecule.bonds.map { ($0.begin, $0.end, $0.code) },
                    coordinates: molecule.coordinates
                ) { MurmurHash3.x86_32(int64s: UnsafeBufferPointer(rebasing: flat[(6 * $0)..<(6 * $0 + 6)])) }
            }
        } catch {
            throw fail("E3FP: \(error)")
        }
        let width = e3fp.level + 1
        var fpRows = [Int32](repeating: -1, count: tokens.count * width)
        for (atom, token) in atomTokens.enumerated() {
            for c in 0..<width { fpRows[token * width + c] = fingerprint.tokens[atom * width + c] }
        }
        ids.append(vocabulary.eomID)
        var rows = [Int32](repeating: -1, count: width)
        rows += fpRows
        rows += [Int32](repeating: -1, count: width)
        if let maxLength, ids.count + 1 > maxLength {
            ids = Array(ids.prefix(max(0, maxLength - 1)))
            rows = Array(rows.prefix(ids.count * width))
        }
        ids.append(MolT5Vocabulary.eosID)
        rows += [Int32](repeating: -1, count: width)
        return MoleculeTokens(
            smiles: molecule.smiles, atomOrder: molecule.atomOutputOrder, selfies: selfies, selfiesTokens: tokens,
            atomTokenIndex: atomTokens, e3fpBits: fingerprint.bits, atomIdentifiers: fingerprint.identifiers,
            atomTokens: fingerprint.tokens, fpRows: fpRows, inputIDs: ids, fpTokens: rows, levelsRun: fingerprint.levelsRun,
            remapped: fingerprint.remapped, unmerged: fingerprint.unmerged, coordinates: molecule.coordinates)
    }
}
