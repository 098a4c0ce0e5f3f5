import BioEmbedCore
import BioEmbedHDF5
import BioEmbedLinalg
import Foundation

/// `fmri graph`: `/fmri/connectivity/<kind>` → `/fmri/graph/<kind>/{degree, triangles, strength,
/// clustering}` `[S, R]` (+ `modularity` `[S]` when a partition is given), thresholded
/// proportionally as bctpy does (attr `density`).
public struct FMRIGraphStage: CollectionStage {
    public struct Configuration: StageConfiguration {
        public var kind: String?
        public var density: Double?
        public var absolute: Bool?
        /// Community label per region (column order), for Newman's Q.
        public var partition: [Int64]?

        public static let defaultKind = ConnectivityKind.correlation
        public static let defaultDensity = 0.1
        public static let parameters = [
            StageParameter.choice("kind", ConnectivityKind.self, default: defaultKind, help: "Which connectivity/<kind> to threshold."),
            StageParameter("density", .number, default: defaultDensity, help: "Fraction of edges kept, in (0, 1]."),
            StageParameter("absolute", .boolean, default: false, help: "Rank edges by absolute weight instead of signed weight."),
            StageParameter("partition", .list, help: "Community label per region (column order), for modularity; on the CLI comma-separated."),
        ]

        public init(kind: String? = nil, density: Double? = nil, absolute: Bool? = nil, partition: [Int64]? = nil) {
            self.kind = kind
            self.density = density
            self.absolute = absolute
            self.partition = partition
        }

        public func validate() throws(NeuroError) {
            _ = try connectivityKind()
            if let d = density, !(d > 0 && d <= 1) { throw .invalidParameter(name: "density", expected: "a fraction in (0, 1]", found: "\(d)") }
        }

        public func connectivityKind() throws(NeuroError) -> ConnectivityKind {
            try kind.map { text throws(NeuroError) in try ConnectivityKind(parsing: text) } ?? Self.defaultKind
        }
    }

    public static let name = "fmri_graph"
    public static let startupNeeds: StartupNeeds = .blas
    /// 2: results in a nested collection (own ids, failed subjects absent), layout bioembed/fmri/2.
    public static let version = 2
    public static let summary = "Connectivity -> proportional threshold (bctpy) -> degree, triangles, clustering, strength, modularity"
    public static let inputCollection = "fmri"
    public static let outputSchema = BioEmbedVersion.schema(of: "fmri")
    public static let reads = [FMRIConnectivityStage.name]

    public let configuration: Configuration
    public init(_ configuration: Configuration) { self.configuration = configuration }

    public func run(input: HDF5File, output: HDF5File, errors: ErrorLog, context: CollectionStageContext) throws -> CollectionStageResult {
        try configuration.validate()
        let kind = try configuration.connectivityKind()
        let density = configuration.density ?? Configuration.defaultDensity
        let source = try input.root.group("fmri")
        guard source.kind(of: "connectivity/\(kind.rawValue)") == .dataset else {
            throw NeuroError.invalidInput(file: input.path, expected: "/fmri/connectivity/\(kind.rawValue) (run fmri connectivity --kind \(kind.rawValue) first)", found: "none")
        }
        let data = try source.dataset("connectivity/\(kind.rawValue)")
        let shape = data.shape
        let ids = try FMRICollection.nestedIDs(source, "connectivity", file: input.path, writtenBy: "fmri connectivity")
        guard shape.count == 3, shape[0] == ids.count, shape[1] == shape[2] else {
            throw NeuroError.invalidInput(
                file: input.path, expected: "/fmri/connectivity/\(kind.rawValue) [\(ids.count), R, R] (one matrix per id of connectivity/ids)", found: "\(shape)")
        }
        let n = shape[1]
        if let p = configuration.partition, p.count != n {
            throw NeuroError.invalidParameter(name: "partition", expected: "\(n) community labels (one per region)", found: "\(p.count)")
        }
        let measures = ["degree", "triangles", "strength", "clustering"].map { "graph/\(kind.rawValue)/\($0)" }
        let modularityPath = "graph/\(kind.rawValue)/modularity"
        var datasets = measures.map { EarlierRows.Dataset(path: $0, rowLength: n) }
        if configuration.partition != nil { datasets.append(.init(path: modularityPath, rowLength: 1)) }
        let earlier = EarlierRows(context.reuse, stage: Self.name, collection: "graph/\(kind.rawValue)", ids: ids, datasets: datasets)
        let group = try FMRICollection.outputGroup(input: input, output: output)
        try FMRICollection.removeIfPresent(group, "graph/\(kind.rawValue)")
        let graph = try group.openOrCreateGroup("graph").createGroup(kind.rawValue)
        var degree: [Int64] = [], triangles: [Int64] = [], strength: [Double] = [], clustering: [Double] = [], modularity: [Double] = []
        var written: [String] = []
        var failed = 0, cached = 0
        for (k, id) in ids.enumerated() {
            if earlier.contains(id) {
                let rows = measures.compactMap { earlier.row(id, $0) }
                let q = configuration.partition == nil ? [] : earlier.row(id, modularityPath)
                if rows.count == measures.count, let q {
                    degree += rows[0].map { Int64($0) }
                    triangles += rows[1].map { Int64($0) }
                    strength += rows[2]
                    clustering += rows[3]
                    modularity += q
                    written.append(id)
                    cached += 1
                    continue
                }
            }
            let w: [Double] = try data.readRows(k..<(k + 1))
            if w.contains(where: { !$0.isFinite }) {
                failed += 1
                try errors.append(id: id, stage: Self.name, category: .badInput, message: "\(input.path): /fmri/connectivity/\(kind.rawValue) \(id): expected finite values, found NaN/Inf")
                continue
            }
            let t = GraphMeasures.thresholdProportional(w, n: n, density: density, absolute: configuration.absolute ?? false)
            let a = GraphMeasures.adjacency(t)
            degree += GraphMeasures.degree(a, n: n)
            triangles += GraphMeasures.triangles(a, n: n)
            strength += GraphMeasures.strength(t, n: n)
            clustering += GraphMeasures.clustering(a, n: n)
            if let p = configuration.partition { modularity.append(GraphMeasures.modularity(a, n: n, partition: p)) }
            written.append(id)
        }
        let s = written.count
        try FMRICollection.writeIDs(written, to: graph)
        _ = try graph.write("degree", degree, shape: [s, n])
        _ = try graph.write("triangles", triangles, shape: [s, n])
        _ = try graph.write("strength", strength, shape: [s, n])
        _ = try graph.write("clustering", clustering, shape: [s, n])
        if configuration.partition != nil { _ = try graph.write("modularity", modularity, shape: [s]) }
        try graph.setAttribute("density", .double(density))
        try graph.setAttribute("absolute", .int((configuration.absolute ?? false) ? 1 : 0))
        return CollectionStageResult(done: s - cached, failed: failed, cached: cached)
    }
}
