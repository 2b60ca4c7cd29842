import Testing
@testable import Kernels

/// `gemm` in every transposition against a naive triple loop in Double.
struct GemmTests {
    static func naive(_ a: [Float], _ b: [Float], m: Int, n: Int, k: Int, aTransposed: Bool, bTransposed: Bool) -> [Double] {
        var c = [Double](repeating: 0, count: m * n)
        for i in 0..<m {
            for j in 0..<n {
                var sum = 0.0
                for p in 0..<k {
                    let x = aTransposed ? a[p * m + i] : a[i * k + p]
                    let y = bTransposed ? b[j * k + p] : b[p * n + j]
                    sum += Double(x) * Double(y)
                }
                c[i * n + j] = sum
            }
        }
        return c
    }

    @Test(arguments: [(1, 1, 1), (7, 33, 5), (33, 7, 65), (4, 8, 16), (45, 130, 71), (70, 50, 600), (13, 40, 513)], [false, true])
    func everyTranspositionMatchesTheNaiveProduct(sizes: (Int, Int, Int), accumulate: Bool) {
        let (m, n, k) = sizes
        var random = RandomSource(seed: UInt64(m * 10_000 + n * 100 + k))
        let a = (0..<(m * k)).map { _ in Float.random(in: -1...1, using: &random) }
        let b = (0..<(k * n)).map { _ in Float.random(in: -1...1, using: &random) }
        let start = (0..<(m * n)).map { _ in Float.random(in: -1...1, using: &random) }
        for aTransposed in [false, true] {
            for bTransposed in [false, true] {
                var c = accumulate ? start : []
                gemm(&c, a, b, m: m, n: n, k: k, aTransposed: aTransposed, bTransposed: bTransposed, accumulate: accumulate)
                let expected = Self.naive(a, b, m: m, n: n, k: k, aTransposed: aTransposed, bTransposed: bTransposed)
                for i in 0..<(m * n) {
                    let target = expected[i] + (accumulate ? Double(start[i]) : 0)
                    #expect(abs(Double(c[i]) - target) <= 1e-5 * Double(k), "\(m)×\(n)×\(k) aT \(aTransposed) bT \(bTransposed) at \(i)")
                }
            }
        }
    }

    /// A value of `c` gets the same bits with 1 or 2 threads, and whichever rows are multiplied with it (the
    /// inner index is summed in one order everywhere): a sequence's products do not depend on its batch.
    @Test func resultsDoNotDependOnThreadsOrOtherRows() {
        let (m, n, k) = (50, 70, 300)
        var random = RandomSource(seed: 9)
        let a = (0..<(m * k)).map { _ in Float.random(in: -1...1, using: &random) }
        let b = (0..<(k * n)).map { _ in Float.random(in: -1...1, using: &random) }
        let saved = ThreadPool.threads
        defer { ThreadPool.threads = saved }
        var results: [[Float]] = []
        for threads in [1, 2] {
            ThreadPool.threads = threads
            results.append(gemm(a, b, m: m, n: n, k: k))
        }
        #expect(results[0] == results[1])
        let rows = 7..<20
        let part = gemm(Array(a[(rows.lowerBound * k)..<(rows.upperBound * k)]), b, m: rows.count, n: n, k: k)
        #expect(part == Array(results[0][(rows.lowerBound * n)..<(rows.upperBound * n)]))
    }

    @Test func emptyInnerDimensionGivesZeros() {
        var c: [Float] = [1, 2, 3, 4]
        gemm(&c, [], [], m: 2, n: 2, k: 0)
        #expect(c == [0, 0, 0, 0])
    }
}
