import Testing
@testable import Kernels

/// `topIndices` picks what a full sort picks: largest first, ties to the lower index.
@Suite struct TopKTests {
    @Test(arguments: [1, 2, 8, 20, 100, 999, 1000, 1200])
    func topIndicesMatchASort(count: Int) {
        // Values with many ties (only 50 distinct) so the tie rule matters.
        let values = ActivationQuantizationTests.values(1000, seed: 21).map { ($0 * 25).rounded() }
        let sorted = values.indices.sorted { values[$0] > values[$1] || (values[$0] == values[$1] && $0 < $1) }
        #expect(topIndices(values, count: count) == Array(sorted.prefix(count)))
    }

    @Test func nothingAskedNothingGiven() {
        #expect(topIndices([3, 1, 2], count: 0).isEmpty)
        #expect(topIndices([], count: 3).isEmpty)
    }
}
