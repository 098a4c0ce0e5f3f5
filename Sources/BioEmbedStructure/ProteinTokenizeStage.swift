import BioEmbedCore

/// The `protein_tokenize` stage: one PDB/mmCIF file (plain or gzip) in, one `/proteins` item per
/// protein chain out (docs/layout.md): sequence, foldseek 3Di tokens, DSSP secondary structure
/// (`SecondaryStructure`, as mkdssp 4.2.2), per-residue pLDDT of predicted structures (and, with
/// `plddt_mask`, the 3Di string with low-confidence letters as `#`), Cα coordinates (float32 Å),
/// author residue numbers and insertion codes, a chain-local Cα radius graph and kNN table (or,
/// with `graph_scope: complex`, each chain's rows of the graphs over all written chains of its file
/// and model, with complex indices and the chain's `complex_offset`).
///
/// Ids are `<file id>:<author chain id>` (`<file id>:<model>:<chain>` with `all_models`). A file
/// that cannot be parsed, or holds no chain with Cα atoms, fails as a whole with a message naming
/// the file (and line); a chain shorter than `min_length` residues fails on its own (foldseek's
/// `createdb` skips chains of ≤ 3 residues, whose 3Di would be all `D`) while the other chains of
/// the file are written.
public struct ProteinTokenizeStage: Stage {
    public struct Configuration: StageConfiguration {
        /// Cα radius-graph cutoff in Å (pairs with distance ≤ cutoff); 0 disables the graph.
        public var radius: Double
        /// Neighbours per residue in the kNN table; 0 disables it.
        public var knn: Int
        /// Altloc choice for N, CA, C, CB.
        public var altloc: AltlocPolicy
        /// Every model instead of the first.
        public var allModels: Bool
        /// Chains with fewer residues are reported as failures.
        public var minLength: Int
        /// Graphs per chain (chain-local indices) or over the file's whole complex.
        public var graphScope: GraphScope
        /// pLDDT below which a residue's 3Di letter becomes `#` in `tokens_3di_masked` (SaProt's
        /// structure-aware vocabulary); also reads pLDDT from every file, predicted or not.
        public var plddtMask: Double?
        /// DSSP secondary structure in `/proteins/dssp` (about a quarter of the time per file).
        public var dssp: Bool

        /// The defaults, declared here once (the table, the pipeline decoder and the CLI read them).
        public init(radius: Double = 8, knn: Int = 10, altloc: AltlocPolicy = .first, allModels: Bool = false, minLength: Int = 4,
                    graphScope: GraphScope = .chain, plddtMask: Double? = nil, dssp: Bool = true) {
            self.radius = radius
            self.knn = knn
            self.altloc = altloc
            self.allModels = allModels
            self.minLength = minLength
            self.graphScope = graphScope
            self.plddtMask = plddtMask
            self.dssp = dssp
        }

        public static let parameters: [StageParameter] = {
            let d = Configuration()
            return [
                StageParameter("radius", .number, default: d.radius, unit: "Å", help: "Cα radius-graph cutoff (pairs with distance ≤ cutoff); 0 disables the graph."),
                StageParameter("knn", .integer, default: d.knn, help: "Neighbours per residue in the Cα kNN table; 0 disables it."),
                .choice("altloc", AltlocPolicy.self, default: d.altloc, help: "Altloc used for N, CA, C, CB: first, occupancy (highest) or last (foldseek's createdb)."),
                StageParameter("all_models", .boolean, default: d.allModels, help: "Every model of multi-model files (ids <file>:<model>:<chain>) instead of the first."),
                StageParameter("min_length", .integer, default: d.minLength, unit: "residues", help: "Chains with fewer residues are reported as failures (foldseek skips chains of ≤ 3)."),
                .choice("graph_scope", GraphScope.self, default: d.graphScope, help: "Graphs per chain (chain-local indices) or over each file's whole complex (indices into the file's written chains concatenated in order; each item gets complex_offset)."),
                StageParameter("plddt_mask", .number, help: "pLDDT threshold (0–100): writes tokens_3di_masked, the 3Di string with the letters of residues below it as '#' (SaProt), and reads pLDDT from every file (ModelCIF _ma_qa_metric_local, else the CA B-factor) even when it is not detected as predicted. Default: none."),
                StageParameter("dssp", .boolean, default: d.dssp, help: "DSSP secondary structure in /proteins/dssp (mkdssp 4.2.2's letters; about a quarter of the time per file)."),
            ]
        }()

        enum CodingKeys: String, CodingKey, CaseIterable {
            case radius, knn, altloc
            case allModels = "all_models"
            case minLength = "min_length"
            case graphScope = "graph_scope"
            case plddtMask = "plddt_mask"
            case dssp
        }

        /// The one check of the values, for pipeline files and the CLI alike.
        public func validate() throws(CoreError) {
            if let plddtMask, !(plddtMask.isFinite && plddtMask >= 0 && plddtMask <= 100) {
                throw .invalidValue(name: "plddt_mask", expected: "a pLDDT threshold in 0…100", found: "\(plddtMask)")
            }
            guard radius >= 0, radius.isFinite else { throw .invalidValue(name: "radius", expected: "a cutoff ≥ 0 Å", found: "\(radius)") }
            guard knn >= 0 else { throw .invalidValue(name: "knn", expected: "k ≥ 0", found: "\(knn)") }
            guard minLength >= 1 else { throw .invalidValue(name: "min_length", expected: "a minimum length ≥ 1", found: "\(minLength)") }
        }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            let d = Configuration()
            radius = try c.decodeIfPresent(Double.self, forKey: .radius) ?? d.radius
            knn = try c.decodeIfPresent(Int.self, forKey: .knn) ?? d.knn
            altloc = try c.decodeIfPresent(AltlocPolicy.self, forKey: .altloc) ?? d.altloc
            allModels = try c.decodeIfPresent(Bool.self, forKey: .allModels) ?? d.allModels
            minLength = try c.decodeIfPresent(Int.self, forKey: .minLength) ?? d.minLength
            graphScope = try c.decodeIfPresent(GraphScope.self, forKey: .graphScope) ?? d.graphScope
            plddtMask = try c.decodeIfPresent(Double.self, forKey: .plddtMask)
            dssp = try c.decodeIfPresent(Bool.self, forKey: .dssp) ?? d.dssp
            try validate()
        }
    }

    public static let name = "protein_tokenize"
    public static let startupNeeds: StartupNeeds = []
    public static let version = 3
    public static let collection = "proteins"
    public static let summary = "PDB/mmCIF chains → sequence, foldseek 3Di tokens, Cα coordinates and residue graphs"
    /// Structure file extensions: files picked up in a folder, members read from a tar archive.
    public static let structureExtensions = [".pdb", ".pdb.gz", ".ent", ".ent.gz", ".cif", ".cif.gz", ".mmcif", ".mmcif.gz"]
    /// File extensions picked up when a folder is given: structures and tar archives of them.
    public static let extensions = structureExtensions + [".tar"]

    public let configuration: Configuration
    let encoder = Foldseek3DiEncoder()

    public init(_ configuration: Configuration) { self.configuration = configuration }

    public var fields: [FieldSpec] {
        var f = [
            FieldSpec("file", .string, .perItem(rowShape: [])),
            FieldSpec("chain", .string, .perItem(rowShape: [])),
            FieldSpec("sequence", .string, .perItem(rowShape: [])),
            FieldSpec("tokens_3di", .string, .perItem(rowShape: [])),
            FieldSpec("ca", .float32, .ragged(offsets: "residue_offsets", rowShape: [3])),
            FieldSpec("residue_number", .int32, .ragged(offsets: "residue_offsets", rowShape: []), compressed: true),
            // one byte per residue: fixed-length (h5py `S1`), not a variable-length heap entry each
            FieldSpec("insertion_code", .string, .ragged(offsets: "residue_offsets", rowShape: []), compressed: true, fixedWidth: 1),
            FieldSpec("plddt", .float32, .ragged(offsets: "residue_offsets", rowShape: []), compressed: true),
            FieldSpec("plddt_source", .string, .perItem(rowShape: [])),
        ]
        if configuration.dssp {
            f.append(FieldSpec("dssp", .string, .perItem(rowShape: [])))
        }
        if configuration.plddtMask != nil {
            f.append(FieldSpec("tokens_3di_masked", .string, .perItem(rowShape: [])))
        }
        if configuration.radius > 0 {
            f.append(FieldSpec("graph/radius/edges", .int32, .ragged(offsets: "graph/radius/edge_offsets", rowShape: [2]), compressed: true))
        }
        if configuration.knn > 0 {
            f.append(FieldSpec("graph/knn/neighbors", .int32, .ragged(offsets: "residue_offsets", rowShape: [configuration.knn]), compressed: true))
        }
        if configuration.graphScope == .complex && (configuration.radius > 0 || configuration.knn > 0) {
            f.append(FieldSpec("complex_offset", .int32, .perItem(rowShape: [])))
        }
        return f
    }

    public var collectionAttributes: [String: MetadataValue] {
        var a: [String: MetadataValue] = ["altloc": .string(configuration.altloc.rawValue), "all_models": .int(configuration.allModels ? 1 : 0),
                                          "graph_scope": .string(configuration.graphScope.rawValue)]
        if configuration.radius > 0 { a["graph/radius/cutoff"] = .double(configuration.radius) }
        if configuration.knn > 0 { a["graph/knn/k"] = .int(Int64(configuration.knn)) }
        if let mask = configuration.plddtMask { a["plddt_mask"] = .double(mask) }
        return a
    }

    public func outputs(_ item: ManifestItem, context: StageContext) throws -> [StageOutput] {
        guard let path = item.path() else {
            throw CoreError.invalidItem(file: item.id, problem: "the manifest row has no path")
        }
        let model: StructureModel
        if let member = TarArchive.member(of: item) {
            model = try StructureReader.read(path, member: member, allModels: configuration.allModels)
        } else if TarArchive.isArchive(path) {
            // an archive that `workUnits` could not list, or without structure members
            let count = try TarArchive.members(path).count
            throw StructureError.noProteinChains(file: path, detail: "a tar archive of \(count) member(s), none named \(Self.structureExtensions.joined(separator: ", "))")
        } else {
            model = try StructureReader.read(path, allModels: configuration.allModels)
        }
        let chains = ChainExtractor.chains(model, policy: configuration.altloc, allModels: configuration.allModels)
        guard !chains.isEmpty else {
            let detail = model.atomCount == 0
                ? "no ATOM/HETATM records"
                : "\(model.atomCount) atoms in \(model.chainCount) chain(s) but no polymer residue with a CA atom"
            throw StructureError.noProteinChains(file: path, detail: detail)
        }
        let fileText = TarArchive.member(of: item).map { "\(item.fields["path"] ?? path)/\($0.name)" } ?? item.fields["path"] ?? path
        try checkGraphSizes(chains, file: path)
        let complexGraphs = configuration.graphScope == .complex ? self.complexGraphs(chains) : [:]
        let secondary = configuration.dssp ? SecondaryStructure.assign(model, chains: chains) : []
        let source: ConfidenceSource = model.isPredicted || configuration.plddtMask != nil ? model.confidenceSource : .none
        return chains.enumerated().map { index, chain in
            let id = configuration.allModels ? "\(item.id):\(chain.model):\(chain.name)" : "\(item.id):\(chain.name)"
            guard chain.count >= configuration.minLength else {
                return .failure(id: id, message: "\(path): chain '\(chain.name)' (model \(chain.model)): expected at least \(configuration.minLength) residues with a CA atom for 3Di (foldseek skips chains of ≤ 3), found \(chain.count)")
            }
            return .record(record(id: id, file: fileText, chain: chain, dssp: secondary.isEmpty ? nil : secondary[index], confidence: source,
                                  complex: complexGraphs[index]))
        }
    }

    /// A tar archive (AlphaFold DB's bulk shards) is one unit per structure member, read in place:
    /// id `<archive>/<member>`, each with its own resume key (the member's bytes). An archive that
    /// cannot be listed stays one unit, which then fails naming it.
    public func workUnits(for item: ManifestItem) -> [ManifestItem] {
        guard let members = try? TarArchive.memberItems(item, extensions: Self.structureExtensions), !members.isEmpty else { return [item] }
        return members
    }

    /// Radius graphs larger than the memory budget of one input allows (8 bytes an edge, with room
    /// for growth) are refused before they are built: coincident or crowded Cα atoms make the edge
    /// count quadratic (20,000 atoms at one point: 200 million edges).
    func checkGraphSizes(_ chains: [ProteinChain], file: String) throws {
        guard configuration.radius > 0 else { return }
        let limit = MemoryBudget.perInput / 16
        let groups: [(String, [Double])] = configuration.graphScope == .complex
            ? [("the complex", chains.filter { $0.count >= configuration.minLength }.flatMap(\.ca))]
            : chains.map { ("chain '\($0.name)'", $0.ca) }
        for (what, positions) in groups {
            let bound = ResidueGraphs.edgeBound(positions: positions, cutoff: configuration.radius)
            guard bound <= limit else {
                throw StructureError.invalidInput(
                    file: file, expected: "a Cα radius graph (\(configuration.radius) Å) of at most \(limit) edges, the memory budget of one input",
                    found: "\(what) with \(positions.count / 3) residues and up to \(bound) edges: Cα atoms crowded at a few points (coincident coordinates?)")
            }
        }
    }

    /// A chain's rows of its complex's graphs (`GraphScope.complex`).
    public struct ComplexRows: Sendable {
        /// Index of the chain's first residue in the complex.
        public var offset: Int32
        /// Radius edges (i, j) with i in this chain, complex indices, sorted by (i, j).
        public var edges: [Int32]
        /// The kNN rows of this chain's residues (complex indices, −1 padding).
        public var neighbors: [Int32]
    }

    /// The graphs of each model's complex (its chains that are written, in order), cut into the
    /// rows of each chain (keyed by the chain's position in `chains`).
    func complexGraphs(_ chains: [ProteinChain]) -> [Int: ComplexRows] {
        var rows: [Int: ComplexRows] = [:]
        var start = 0
        while start < chains.count {
            var end = start
            while end < chains.count && chains[end].model == chains[start].model { end += 1 }
            let members = (start..<end).filter { chains[$0].count >= configuration.minLength }
            start = end
            guard !members.isEmpty else { continue }
            let positions = members.flatMap { chains[$0].ca }
            let graphs = ResidueGraphs.graphs(positions: positions, cutoff: configuration.radius, k: configuration.knn)
            var offset = 0
            var edge = 0   // edges are sorted by i: each chain's are one contiguous run
            for member in members {
                let count = chains[member].count
                let upper = Int32(offset + count)
                let first = edge
                while edge < graphs.edges.count / 2 && graphs.edges[2 * edge] < upper { edge += 1 }
                let k = configuration.knn
                rows[member] = ComplexRows(
                    offset: Int32(offset), edges: Array(graphs.edges[(2 * first)..<(2 * edge)]),
                    neighbors: k > 0 ? Array(graphs.neighbors[(offset * k)..<((offset + count) * k)]) : [])
                offset += count
            }
        }
        return rows
    }

    /// The `/proteins` record of one chain (graphs chain-local, or its rows of the complex's).
    public func record(id: String, file: String, chain: ProteinChain, dssp: String?, confidence: ConfidenceSource = .none,
                       complex: ComplexRows? = nil) -> ItemRecord {
        let tokens = encoder.encode(n: chain.n, ca: chain.ca, c: chain.c, cb: chain.cb)
        let plddt = confidence == .none ? [Float](repeating: .nan, count: chain.count) : chain.caBFactor
        var values: [String: FieldData] = [
            "file": .strings([file]),
            "chain": .strings([chain.name]),
            "sequence": .strings([chain.sequenceString]),
            "tokens_3di": .strings([String(decoding: tokens, as: UTF8.self)]),
            "plddt": .float32(plddt),
            "plddt_source": .strings([confidence.rawValue]),
            "ca": .float32(chain.ca.map { Float($0) }),
            "residue_number": .int32(chain.residueNumbers),
            "insertion_code": .strings(chain.insertionCodes.map { String(UnicodeScalar($0)) }),
        ]
        if let dssp { values["dssp"] = .strings([dssp]) }
        if let mask = configuration.plddtMask {
            // SaProt: residues below the threshold (or without a value) lose their structure letter
            let threshold = Float(mask)
            let masked = zip(tokens, plddt).map { letter, p in p >= threshold ? letter : UInt8(ascii: "#") }
            values["tokens_3di_masked"] = .strings([String(decoding: masked, as: UTF8.self)])
        }
        if let complex, configuration.radius > 0 || configuration.knn > 0 {
            if configuration.radius > 0 { values["graph/radius/edges"] = .int32(complex.edges) }
            if configuration.knn > 0 { values["graph/knn/neighbors"] = .int32(complex.neighbors) }
            values["complex_offset"] = .int32([complex.offset])
        } else if configuration.radius > 0 || configuration.knn > 0 {
            let graphs = ResidueGraphs.graphs(positions: chain.ca, cutoff: configuration.radius, k: configuration.knn)
            if configuration.radius > 0 { values["graph/radius/edges"] = .int32(graphs.edges) }
            if configuration.knn > 0 { values["graph/knn/neighbors"] = .int32(graphs.neighbors) }
        }
        return ItemRecord(id: id, values: values)
    }
}
