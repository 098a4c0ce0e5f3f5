/// selfies 2.2.0's kekulization (`MolecularGraph.kekulize`, after R. Apodaca's treatment of
/// aromaticity in SMILES): RDKit's kekulé SMILES can keep aromatic `:` bonds (an SDF bond of order
/// 4 that RDKit cannot kekulize), and the encoder turns them into single and double bonds by a
/// perfect matching over the atoms that can take a double bond, as selfies does, instead of
/// reading them as single bonds.
extension SelfiesGraph {
    /// selfies' `AROMATIC_VALENCES` and `VALENCE_ELECTRONS`.
    static let aromaticValences: [String: [Int]] = [
        "B": [3], "Al": [3], "C": [4], "Si": [4], "N": [3, 5], "P": [3, 5], "As": [3, 5],
        "O": [2, 4], "S": [2, 4], "Se": [2, 4], "Te": [2, 4],
    ]
    static let valenceElectrons: [String: Int] = [
        "B": 3, "Al": 3, "C": 4, "Si": 4, "N": 5, "P": 5, "As": 5, "O": 6, "S": 6, "Se": 6, "Te": 6,
    ]

    /// Replaces every aromatic bond by a single or double bond; false when no perfect matching
    /// exists (selfies: "kekulization failed") or an element has no aromatic valence.
    mutating func kekulize() -> Bool {
        guard !delocalizedOrder.isEmpty else { return true }
        var kept: [Int] = []
        for node in delocalizedOrder {
            guard let prune = pruned(node) else { return false }
            if !prune { kept.append(node) }
        }
        let labelToNode = kept.sorted()
        var nodeToLabel: [Int: Int] = [:]
        for (label, node) in labelToNode.enumerated() { nodeToLabel[node] = label }
        var graph = [[Int]](repeating: [], count: labelToNode.count)
        for node in kept {
            graph[nodeToLabel[node]!] = delocalized[node, default: []].compactMap { nodeToLabel[$0] }
        }
        guard let matching = Self.perfectMatching(graph) else { return false }
        for node in delocalizedOrder {
            for adjacent in delocalized[node, default: []] { updateBondOrder(node, adjacent, to: 1) }
            atoms[node].isAromatic = false
            bondCounts[node] = bondCounts[node].rounded(.towardZero)
        }
        for (label, mate) in matching.enumerated() { updateBondOrder(labelToNode[label], labelToNode[mate], to: 2) }
        delocalized = [:]
        delocalizedOrder = []
        return true
    }

    /// selfies' `_prune_from_ds`: whether the atom cannot take a double bond; nil for an element
    /// without an aromatic valence (selfies raises there).
    private func pruned(_ node: Int) -> Bool? {
        let adjacent = delocalized[node, default: []]
        if adjacent.isEmpty { return true }
        let atom = atoms[node]
        guard let valences = Self.aromaticValences[atom.element], let electrons = Self.valenceElectrons[atom.element] else { return nil }
        let count = bondCounts[node]
        var used = Int(count - 0.5 * Double(adjacent.count))
        guard let hydrogens = atom.hydrogens else { return valences.contains(used) }
        let valence = valences.last! - atom.charge
        used += hydrogens
        let bound = max(0, atom.charge) + hydrogens + Int(count) + Int(2 * count.truncatingRemainder(dividingBy: 1))
        let radical = max(0, electrons - bound) % 2
        let free = valence - used - radical
        if valences.contains(where: { used == $0 - atom.charge }) { return true }
        return !(free >= 0 && free % 2 != 0)
    }

    /// selfies' `find_perfect_matching`: a greedy maximal matching (fewest free neighbours first),
    /// then augmenting paths (BFS) from each unmatched node in increasing order; nil when none
    /// is perfect. `mate[i]` is the node matched with i.
    static func perfectMatching(_ graph: [[Int]]) -> [Int]? {
        let n = graph.count
        var mate = [Int](repeating: -1, count: n)
        var free = graph.map(\.count)
        var queue = MinHeap()
        for i in 0..<n { queue.push((free[i], i)) }
        while let (_, node) = queue.pop() {
            if mate[node] >= 0 || free[node] == 0 { continue }
            guard let partner = graph[node].first(where: { mate[$0] < 0 }) else { continue }
            mate[node] = partner
            mate[partner] = node
            for adjacent in graph[node] + graph[partner] {
                free[adjacent] -= 1
                if mate[adjacent] < 0 && free[adjacent] > 0 { queue.push((free[adjacent], adjacent)) }
            }
        }
        var unmatched = Set((0..<n).filter { mate[$0] < 0 })
        while let root = unmatched.min() {
            unmatched.remove(root)
            guard let path = augmentingPath(graph, root: root, mate: mate) else { return nil }
            var k = 0
            while k < path.count {
                mate[path[k]] = path[k + 1]
                mate[path[k + 1]] = path[k]
                k += 2
            }
            unmatched.remove(path[0])
            unmatched.remove(path[path.count - 1])
        }
        return mate
    }

    private static func augmentingPath(_ graph: [[Int]], root: Int, mate: [Int]) -> [Int]? {
        var parents = [(Int, Int)?](repeating: nil, count: graph.count)
        parents[root] = (-1, -1)
        var queue = [root], head = 0
        var otherEnd = -1
        search: while head < queue.count {
            let node = queue[head]
            head += 1
            for adjacent in graph[node] {
                if mate[adjacent] < 0 {
                    if adjacent != root {
                        parents[adjacent] = (node, adjacent)
                        otherEnd = adjacent
                        break search
                    }
                } else if parents[mate[adjacent]] == nil {
                    parents[mate[adjacent]] = (node, adjacent)
                    queue.append(mate[adjacent])
                }
            }
        }
        guard otherEnd >= 0 else { return nil }
        var path: [Int] = []
        var node = otherEnd
        while node != root {
            let (from, via) = parents[node]!
            path.append(via)
            path.append(from)
            node = from
        }
        return path
    }

    /// A binary min-heap of (free degree, node), Python's `heapq` order (ties by node).
    struct MinHeap {
        private var items: [(Int, Int)] = []
        mutating func push(_ item: (Int, Int)) {
            items.append(item)
            var i = items.count - 1
            while i > 0 {
                let parent = (i - 1) / 2
                guard items[i] < items[parent] else { break }
                items.swapAt(i, parent)
                i = parent
            }
        }
        mutating func pop() -> (Int, Int)? {
            guard !items.isEmpty else { return nil }
            items.swapAt(0, items.count - 1)
            let top = items.removeLast()
            var i = 0
            while true {
                let l = 2 * i + 1, r = l + 1
                var smallest = i
                if l < items.count && items[l] < items[smallest] { smallest = l }
                if r < items.count && items[r] < items[smallest] { smallest = r }
                if smallest == i { break }
                items.swapAt(i, smallest)
                i = smallest
            }
            return top
        }
    }
}
