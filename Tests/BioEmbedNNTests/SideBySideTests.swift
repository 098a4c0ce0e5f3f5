import Testing
@testable import BioEmbedNN

/// How a batch is split between cores: contiguous parts of near-equal cost.
struct SideBySideTests {
    @Test func partsAreContiguousCoverEveryItemAndBalanceCost() {
        let costs: [Double] = [1, 1, 1, 1, 2, 2, 4]
        let parts = SideBySide.balancedParts(costs, count: 2)
        #expect(parts.count == 2)
        #expect(parts.first?.lowerBound == 0 && parts.last?.upperBound == costs.count)
        #expect(zip(parts, parts.dropFirst()).allSatisfy { $0.upperBound == $1.lowerBound })
        let sums = parts.map { costs[$0].reduce(0, +) }
        #expect(sums == [6, 6])
    }

    @Test func oneDominantItemEndsUpAloneAndSmallBatchesStayWhole() {
        // sorted by length: the long chain last; its part holds only it
        let parts = SideBySide.balancedParts([1, 1, 1, 30], count: 2)
        #expect(parts == [0..<3, 3..<4])
        #expect(SideBySide.balancedParts([5], count: 2) == [0..<1])
        #expect(SideBySide.balancedParts([2, 2, 2], count: 3) == [0..<1, 1..<2, 2..<3])
    }
}
