import BioEmbedCore
import Foundation
import Synchronization

/// The `molecule tokenize` stage: SDF/MOL files (`.sdf`, `.mol`, `.sdf.gz`) → one item per record
/// in `/molecules` (docs/layout.md): kekulé SMILES, SELFIES, 3D-MolT5 `input_ids` + `fp_tokens`
/// (`<bom> SELFIES <eom> </s>`), E3FP bits, and per-atom tables.
///
/// Item ids: `<file name>` for a one-record file, `<file name>#<record>` (0-based, RDKit's
/// `SDMolSupplier` index) otherwise. A record RDKit cannot parse or sanitize, a record without 3D
/// coordinates (RDKit marks the conformer 2D: a `2D` header, or no dimension code and all z = 0;
/// **rejected**), a SMILES SELFIES cannot encode, a token outside the vocabulary, an alignment
/// failure, or the cut record of a truncated `.sdf.gz` fails alone, named by file, record and line;
/// the other records are written. A `3D` header with all z = 0 (a planar molecule) is kept with a
/// warning.
public struct MoleculeTokenizeStage: Stage {
    public struct Configuration: StageConfiguration {
        /// `max_seq_len` truncation of the ids (keep `max_length − 1`, then `</s>`); nil: none.
        public var maxLength: Int?
        /// `<bom>` / `<eom>` ids (molt5.md §3.2: the reference code builds 35045 / 35044).
        public var bomID: Int
        public var eomID: Int
        /// A SELFIES dictionary file (one token per line, id 32100 + line); nil: the bundled one.
        public var vocab: String?
        /// Plain `.sdf` files with more records are processed in parts of this many records (each a
        /// work unit with its own resume key), so memory is bounded by the part, not the file.
        public var recordsPerItem: Int
        /// Conformers for molecules given as SMILES (`.smi`, CSV/TSV): RDKit ETKDGv3, seeded.
        public var embedding: ConformerEmbedding
        /// The SMILES and id columns of CSV/TSV inputs (nil: found by their usual names).
        public var smilesColumn: String?
        public var idColumn: String?

        /// The defaults, declared here once (the table, the pipeline decoder and the CLI read them).
        public init(maxLength: Int? = nil, bomID: Int = 35045, eomID: Int = 35044, vocab: String? = nil, recordsPerItem: Int = 2048,
                    embedding: ConformerEmbedding = ConformerEmbedding(), smilesColumn: String? = nil, idColumn: String? = nil) {
            self.maxLength = maxLength
            self.bomID = bomID
            self.eomID = eomID
            self.vocab = vocab
            self.recordsPerItem = recordsPerItem
            self.embedding = embedding
            self.smilesColumn = smilesColumn
            self.idColumn = idColumn
        }

        enum CodingKeys: String, CodingKey, CaseIterable {
            case maxLength = "max_length"
            case bomID = "bom_id"
            case eomID = "eom_id"
            case vocab
            case recordsPerItem = "records_per_item"
            case seed, conformers, mmff
            case embedAttempts = "embed_attempts"
            case embedTimeout = "embed_timeout"
            case smilesColumn = "smiles_column"
            case idColumn = "id_column"
        }

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encodeIfPresent(maxLength, forKey: .maxLength)
            try c.encode(bomID, forKey: .bomID)
            try c.encode(eomID, forKey: .eomID)
            try c.encodeIfPresent(vocab, forKey: .vocab)
            try c.encode(recordsPerItem, forKey: .recordsPerItem)
            try c.encode(embedding.seed, forKey: .seed)
            try c.encode(embedding.conformers, forKey: .conformers)
            try c.encode(embedding.mmff, forKey: .mmff)
            try c.encode(embedding.attempts, forKey: .embedAttempts)
            try c.encode(embedding.timeout, forKey: .embedTimeout)
            try c.encodeIfPresent(smilesColumn, forKey: .smilesColumn)
            try c.encodeIfPresent(idColumn, forKey: .idColumn)
        }

        public static let parameters: [StageParameter] = {
            let d = Configuration()
            return [
                StageParameter("max_length", .integer, unit: "tokens", help: "Truncate ids to this length (at least 2) as the 3D-MolT5 fine-tuning scripts do (keep N-1, then </s>). Default: none."),
                StageParameter("bom_id", .integer, default: d.bomID, help: "Id of <bom> (the reference code builds 35045; see docs/molecule-ids.md)."),
                StageParameter("eom_id", .integer, default: d.eomID, help: "Id of <eom> (the reference code builds 35044)."),
                StageParameter("vocab", .file, help: "A SELFIES dictionary file (one token per line, id 32100 + line). Default: the bundled 3D-MolT5 one."),
                StageParameter("records_per_item", .integer, default: d.recordsPerItem, unit: "records", help: "Plain .sdf files with more records are processed (and resumed) in parts of this many, so memory is bounded by the part."),
                StageParameter("seed", .integer, default: d.embedding.seed, help: "SMILES inputs: RDKit randomSeed of the ETKDGv3 embedding (a fixed seed reproduces the coordinates)."),
                StageParameter("conformers", .integer, default: d.embedding.conformers, help: "SMILES inputs: conformers per molecule (ids <id>#c<k>)."),
                StageParameter("mmff", .boolean, default: d.embedding.mmff, help: "SMILES inputs: optimize each conformer with MMFF94 (200 iterations)."),
                StageParameter("embed_attempts", .integer, default: d.embedding.attempts, help: "SMILES inputs: ETKDG embedding attempts (maxIterations); 0: RDKit's default."),
                StageParameter("embed_timeout", .number, default: d.embedding.timeout, unit: "s", help: "SMILES inputs: seconds one molecule may take to embed; 0: no limit."),
                StageParameter("smiles_column", .text, help: "CSV/TSV inputs: the SMILES column (default: smiles, SMILES, canonical_smiles or isomeric_smiles)."),
                StageParameter("id_column", .text, help: "CSV/TSV inputs: the id column (default: id or name; without one, ids are <file>#<row>)."),
            ]
        }()

        /// The one check of the values, for pipeline files and the CLI alike.
        public func validate() throws(CoreError) {
            try embedding.validate()
            guard recordsPerItem >= 1 else { throw .invalidValue(name: "records_per_item", expected: "at least 1 record", found: "\(recordsPerItem)") }
            if let maxLength, maxLength < 2 { throw .invalidValue(name: "max_length", expected: "a length of at least 2", found: "\(maxLength)") }
            for (key, value) in [("bom_id", bomID), ("eom_id", eomID)] where value < 0 || value > Int(Int32.max) {
                throw .invalidValue(name: key, expected: "a token id in 0...\(Int32.max)", found: "\(value)")
            }
        }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            let d = Configuration()
            maxLength = try c.decodeIfPresent(Int.self, forKey: .maxLength)
            bomID = try c.decodeIfPresent(Int.self, forKey: .bomID) ?? d.bomID
            eomID = try c.decodeIfPresent(Int.self, forKey: .eomID) ?? d.eomID
            vocab = try c.decodeIfPresent(String.self, forKey: .vocab)
            recordsPerItem = try c.decodeIfPresent(Int.self, forKey: .recordsPerItem) ?? d.recordsPerItem
            let defaults = d.embedding
            embedding = ConformerEmbedding(
                seed: try c.decodeIfPresent(Int.self, forKey: .seed) ?? defaults.seed,
                conformers: try c.decodeIfPresent(Int.self, forKey: .conformers) ?? defaults.conformers,
                mmff: try c.decodeIfPresent(Bool.self, forKey: .mmff) ?? defaults.mmff,
                attempts: try c.decodeIfPresent(Int.self, forKey: .embedAttempts) ?? defaults.attempts,
                timeout: try c.decodeIfPresent(Double.self, forKey: .embedTimeout) ?? defaults.timeout)
            smilesColumn = try c.decodeIfPresent(String.self, forKey: .smilesColumn)
            idColumn = try c.decodeIfPresent(String.self, forKey: .idColumn)
            try validate()
        }
    }

    public static let name = "molecule_tokenize"
    public static let startupNeeds: StartupNeeds = .smallObjectAllocator
    /// An SDF library is many independent records: one file at a time uses every core.
    public static let parallelizesWithinItems = true
    public static let version = 2
    public static let collection = "molecules"
    public static let summary = "SDF records → kekulé SMILES, SELFIES, E3FP bits and 3D-MolT5 input ids + 3D tokens"
    /// File suffixes found in folders.
    public static let extensions = [".sdf", ".mol", ".sdf.gz", ".mol.gz", ".sd", ".sd.gz"] + SmilesTable.extensions

    public let configuration: Configuration
    private let cache = VocabularyCache()

    public init(_ configuration: Configuration) { self.configuration = configuration }

    public var fields: [FieldSpec] {
        [
            FieldSpec("file", .string, .perItem(rowShape: [])),
            FieldSpec("record", .int64, .perItem(rowShape: [])),
            FieldSpec("title", .string, .perItem(rowShape: [])),
            FieldSpec("sdf_fields", .string, .perItem(rowShape: [])),
            FieldSpec("smiles", .string, .perItem(rowShape: [])),
            FieldSpec("selfies", .string, .perItem(rowShape: [])),
            FieldSpec("input_ids", .int32, .ragged(offsets: "token_offsets", rowShape: []), compressed: true),
            FieldSpec("fp_tokens", .int32, .ragged(offsets: "token_offsets", rowShape: [4]), compressed: true),
            FieldSpec("e3fp_bits", .int32, .ragged(offsets: "e3fp_offsets", rowShape: []), compressed: true),
            FieldSpec("atom_token_index", .int32, .ragged(offsets: "atom_offsets", rowShape: []), compressed: true),
            FieldSpec("atom_fp_tokens", .int32, .ragged(offsets: "atom_offsets", rowShape: [4]), compressed: true),
            FieldSpec("coordinates", .float64, .ragged(offsets: "atom_offsets", rowShape: [3])),
        ]
    }

    public var collectionAttributes: [String: MetadataValue] {
        [
            "bom_id": .int(Int64(configuration.bomID)), "eom_id": .int(Int64(configuration.eomID)),
            "eos_id": .int(Int64(MolT5Vocabulary.eosID)), "pad_id": .int(Int64(MolT5Vocabulary.padID)),
            "selfies_id_offset": .int(Int64(MolT5Vocabulary.selfiesOffset)),
            "fp_bits": .int(4096), "fp_level": .int(3), "radius_multiplier": .double(1.718),
            "rdkit_version": .string(RDKit.version),
            "max_length": .int(Int64(configuration.maxLength ?? 0)),
            // how SMILES inputs got their conformers (unused for SDF inputs)
            "conformer_method": .string("RDKit ETKDGv3 (EmbedMultipleConfs)" + (configuration.embedding.mmff ? " + MMFF94" : "")),
            "conformer_seed": .int(Int64(configuration.embedding.seed)),
            "conformers_per_molecule": .int(Int64(configuration.embedding.conformers)),
        ]
    }

    /// A plain `.sdf`/`.mol` file of more than `records_per_item` records becomes one unit per part
    /// of that many records: id `<input id>@<first record>`, fields `sdf_part` (byte range, first
    /// record, first line) and `sdf_input` (the input's id). Record ids stay `<input id>#<record>`. A large `.sdf.gz` is first inflated once into
    /// `$TMPDIR/bioembed-sdf/` (named by the file's path, size and time, so a resumed run finds it;
    /// field `sdf_plain`), and removed after its last part; a corrupt stream is read whole as before.
    public func workUnits(for item: ManifestItem) -> [ManifestItem] {
        guard let path = item.path(),
              let attributes = try? FileManager.default.attributesOfItem(atPath: path),
              let size = attributes[.size] as? Int
        else { return [item] }
        let compressed = path.lowercased().hasSuffix(".gz")
        // too small to hold that many records (gzip: assume at least 4:1)
        guard size > (compressed ? 64 : 256) * configuration.recordsPerItem else { return [item] }
        var plain = path
        if compressed {
            let stamp = (attributes[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0
            let name = SHA256.hex(Array("\(path)\u{0}\(size)\u{0}\(stamp)".utf8)) + ".sdf"
            plain = PathText.joined(NSTemporaryDirectory(), "bioembed-sdf/" + name)
            guard FileManager.default.fileExists(atPath: plain) || SDFReader.inflate(path, to: plain) else { return [item] }
        }
        guard let parts = SDFReader.parts(path: plain, recordsPerPart: configuration.recordsPerItem)?.parts, parts.count > 1 else {
            if compressed { try? FileManager.default.removeItem(atPath: plain) }
            return [item]
        }
        return parts.enumerated().map { k, part in
            var fields = item.fields
            fields["sdf_part"] = "\(part.bytes.lowerBound) \(part.bytes.upperBound) \(part.firstRecord) \(part.firstLine)"
            fields["sdf_input"] = item.id
            if compressed {
                fields["sdf_plain"] = plain
                if k == parts.count - 1 { fields["sdf_plain_last"] = "1" }
            }
            return ManifestItem(id: "\(item.id)@\(part.firstRecord)", index: item.index, line: item.line, fields: fields, baseDirectory: item.baseDirectory)
        }
    }

    public func outputs(_ item: ManifestItem, context: StageContext) throws -> [StageOutput] {
        guard let path = item.path() else {
            throw CoreError.invalidItem(file: item.id, problem: "the manifest row has no path")
        }
        let tokenizer = MoleculeTokenizer(vocabulary: try cache.vocabulary(configuration), maxLength: configuration.maxLength)
        let fileText = item.fields["path"] ?? path
        if SmilesTable.isTable(path) {
            return try smilesOutputs(item, path: path, fileText: fileText, tokenizer: tokenizer, threads: context.threads)
        }
        let reader: SDFReader
        let inputID: String
        let many: Bool
        if let text = item.fields["sdf_part"], let input = item.fields["sdf_input"] {
            let numbers = text.split(separator: " ").compactMap { Int($0) }
            guard numbers.count == 4, numbers[0] <= numbers[1] else {
                throw CoreError.invalidItem(file: item.id, problem: "expected 'start end first-record first-line' in sdf_part, found '\(text)'")
            }
            let plain = item.fields["sdf_plain"]
            reader = try SDFReader(path: plain ?? path, part: SDFPart(bytes: numbers[0]..<numbers[1], firstRecord: numbers[2], firstLine: numbers[3]), file: path)
            if let plain, item.fields["sdf_plain_last"] == "1" { try? FileManager.default.removeItem(atPath: plain) }
            inputID = input
            many = true
        } else {
            reader = try SDFReader(path: path)
            inputID = item.id
            many = reader.records.count != 1 || reader.truncation != nil
        }
        @Sendable func id(_ record: Int) -> String { many ? "\(inputID)#\(record)" : inputID }
        if reader.records.isEmpty && reader.truncation == nil {
            throw MoleculeError.invalidInput(file: path, expected: "at least one MOL record", found: "an empty file")
        }
        let records = reader.records
        var outputs = Self.inChunks(records.count, threads: context.threads) { k in
            [output(records[k], id: id(records[k].index), path: path, fileText: fileText, tokenizer: tokenizer)]
        }
        if let truncation = reader.truncation {
            outputs.append(.failure(
                id: id(truncation.record),
                message: "\(path): record \(truncation.record): \(truncation.reason); \(reader.records.count) complete record(s) before it were read"))
        }
        return outputs
    }

    /// One record through RDKit and the tokenizer: its item, or its failure naming file, record and line.
    func output(_ record: SDFRecord, id: String, path: String, fileText: String, tokenizer: MoleculeTokenizer) -> StageOutput {
        if let stray = record.strayBlockLine {
            Diagnostics.warning("\(path): record \(record.index) (line \(record.line)): another MOL block ends at line \(stray) before any `$$$$` line; it is not read (RDKit's SDMolSupplier skips it too): add the missing `$$$$` line to read it as a record")
        }
        do {
            let molecule = try RDKitMolecule(molBlock: record.molBlock, file: path, record: record.index)
            if molecule.conformerDimension == 3, molecule.atomCount > 1,
               stride(from: 2, to: molecule.coordinates.count, by: 3).allSatisfy({ molecule.coordinates[$0] == 0 }) {
                Diagnostics.warning("\(path): record \(record.index) (line \(record.line)): all z coordinates are 0 in a 3D record (a planar molecule?); tokenized as given")
            }
            let tokens = try tokenizer.tokenize(molecule, file: path, record: record.index, line: record.line)
            return .record(itemRecord(for: tokens, record: record, path: fileText, id: id))
        } catch {
            return .failure(id: id, message: Self.message(error, path: path, record: record))
        }
    }

    /// A SMILES table: each row's conformers (`ConformerEmbedding`), then the SDF path on each
    /// conformer's MOL block; ids `<row id>#c<k>` (`<file id>#<row>` when the table has no ids).
    func smilesOutputs(_ item: ManifestItem, path: String, fileText: String, tokenizer: MoleculeTokenizer, threads: Int) throws -> [StageOutput] {
        let rows = try SmilesTable.read(path, smilesColumn: configuration.smilesColumn, idColumn: configuration.idColumn)
        guard !rows.isEmpty else {
            throw MoleculeError.invalidInput(file: path, expected: "at least one SMILES", found: "an empty table")
        }
        let embedding = configuration.embedding
        return Self.inChunks(rows.count, threads: threads) { k in
            let row = rows[k]
            let rowID = row.id ?? "\(item.id)#\(row.index)"
            let blocks: [String]
            do throws(ConformerEmbedding.Failure) { blocks = try embedding.molBlocks(row.smiles) } catch {
                guard case let .failed(reason) = error else { return [] }
                return [.failure(id: rowID, message: "\(path): line \(row.line): SMILES '\(row.smiles.prefix(80))': \(reason)")]
            }
            return blocks.enumerated().map { c, block in
                let record = SDFRecord(index: row.index, line: row.line, title: row.id ?? "", molBlock: block, dataFields: row.fields)
                return output(record, id: "\(rowID)#c\(c)", path: path, fileText: fileText, tokenizer: tokenizer)
            }
        }
    }

    /// `body(k)` for k in 0..<count, results in order: side by side in chunks taken in turn (a few
    /// per thread and then some, so that none idles at the end) when `threads` > 1.
    static func inChunks(_ count: Int, threads: Int, _ body: @Sendable (Int) -> [StageOutput]) -> [StageOutput] {
        guard threads > 1 && count > 1 else { return (0..<count).flatMap(body) }
        let chunk = max(1, min(16, count / (threads * 16)))
        let chunks = (count + chunk - 1) / chunk
        let slots = ResultSlots<[StageOutput]>(count: chunks)
        let next = Mutex(0)
        DispatchQueue.concurrentPerform(iterations: threads) { _ in
            while true {
                let c = next.withLock { value -> Int in
                    defer { value += 1 }
                    return value
                }
                guard c < chunks else { break }
                slots.set(c, ((c * chunk)..<min(count, (c + 1) * chunk)).flatMap(body))
            }
        }
        return slots.values.flatMap { $0 }
    }

    static func message(_ error: MoleculeError, path: String, record: SDFRecord) -> String {
        switch error {
        case let .rdkit(_, _, message):
            return "\(path): record \(record.index) (line \(record.line)): RDKit could not read or sanitize the molecule: \(message)"
        case .record:
            return error.description
        default:
            return "\(path): record \(record.index) (line \(record.line)): \(error)"
        }
    }

    func itemRecord(for tokens: MoleculeTokens, record: SDFRecord, path: String, id: String) -> ItemRecord {
        // names starting with `_` are RDKit's private properties, hidden by its GetPropsAsDict
        let fieldsJSON = JSONText.object(record.dataFields.filter { !$0.name.hasPrefix("_") }.map { ($0.name, $0.value) })
        return ItemRecord(id: id, values: [
            "file": .strings([path]),
            "record": .int64([Int64(record.index)]),
            "title": .strings([record.title]),
            "sdf_fields": .strings([fieldsJSON]),
            "smiles": .strings([tokens.smiles]),
            "selfies": .strings([tokens.selfies]),
            "input_ids": .int32(tokens.inputIDs),
            "fp_tokens": .int32(tokens.fpTokens),
            "e3fp_bits": .int32(tokens.e3fpBits),
            "atom_token_index": .int32(tokens.atomTokenIndex.map(Int32.init)),
            "atom_fp_tokens": .int32(tokens.atomTokens),
            "coordinates": .float64(tokens.coordinates),
        ])
    }
}
