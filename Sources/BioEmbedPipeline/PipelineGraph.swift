import BioEmbedHDF5

/// The stages of a pipeline as a graph: a stage depends on the stages whose results it needs, and on
/// nothing else, so independent branches (the demo's three modalities) never wait for or fail
/// with each other, locally or on SLURM.
///
/// A stage `s` depends on the latest earlier stage that
/// - writes the file `s` reads (`input:`, by default the previous stage's output),
/// - writes the file `s` writes into (stages adding groups to one file take turns), or
/// - names one of the same `{output_dir}/…` files (trained weights written by one stage and read
///   by another).
/// Pipeline files list stages in an order where these edges point backwards, so the list order is
/// a topological order.
public struct PipelineGraph: Sendable {
    /// How a stage runs over the items of a sharded run.
    public enum Kind: String, Sendable {
        /// Items from manifest rows (tokenize, extract): per shard.
        case mapManifest = "map over manifest rows"
        /// Items from an existing collection, each on its own (encoders, graph metrics): per shard.
        case mapCollection = "map over a collection"
        /// The whole collection at once (training, a group mean): once over all shards.
        case reduce
    }

    public struct Node: Sendable {
        public var stage: String
        public var kind: Kind
        /// The file read (collection stages), relative to the output folder.
        public var input: String?
        public var output: String
        /// The collection a collection stage reads, and the one it writes (from its schema).
        public var inputCollection: String?
        public var outputCollection: String?
        /// `{output_dir}/…` files named by the stage's parameters.
        public var references: Set<String>
    }

    public let nodes: [Node]
    /// Direct dependencies of each node (indices of earlier nodes), ascending.
    public let dependencies: [[Int]]

    public init(_ nodes: [Node]) {
        self.nodes = nodes
        dependencies = nodes.indices.map { index in
            let node = nodes[index]
            let earlier = nodes[..<index].indices.reversed()
            var found = Set<Int>()
            if let input = node.input, let writer = earlier.first(where: { nodes[$0].output == input }) { found.insert(writer) }
            if let writer = earlier.first(where: { nodes[$0].output == node.output }) { found.insert(writer) }
            for reference in node.references {
                if let other = earlier.first(where: { nodes[$0].references.contains(reference) }) { found.insert(other) }
            }
            return found.sorted()
        }
    }

    /// The reduce stages `index` needs, directly or through others.
    public func reduceAncestors(of index: Int) -> [Int] {
        var seen = Set<Int>()
        var stack = dependencies[index]
        while let next = stack.popLast() {
            guard seen.insert(next).inserted else { continue }
            stack += dependencies[next]
        }
        return seen.filter { nodes[$0].kind == .reduce }.sorted()
    }

    /// Why a sharded run cannot run this pipeline, or nil. A per-shard stage reads the shard files
    /// of its input; a reduce stage writes its groups once, beside them, so a per-shard stage
    /// cannot read a collection that a reduce stage before it wrote into.
    public func shardingProblem() -> String? {
        for (index, node) in nodes.enumerated() where node.kind != .reduce {
            for ancestor in reduceAncestors(of: index) {
                let reduce = nodes[ancestor]
                if reduce.output == node.input, let collection = reduce.outputCollection, collection == node.inputCollection {
                    return "stage '\(node.stage)' reads /\(collection) of \(reduce.output) after the reduce stage '\(reduce.stage)' "
                        + "(which needs every item at once) wrote into it; run this pipeline unsharded (bioembed run), "
                        + "or drop what makes '\(reduce.stage)' a reduce"
                }
            }
        }
        return nil
    }
}

extension PipelineGraph.Kind {
    init(_ kind: CollectionStageKind) {
        switch kind {
        case .map: self = .mapCollection
        case .reduce: self = .reduce
        }
    }
}
