import Foundation
import Testing
@testable import Kernels

/// The blocked causal self-attention (matrix products over blocks of queries) against the plain definition,
/// query by query and key by key in Double.
struct CausalSelfAttentionTests {
    @Test(arguments: [1, 5, 63, 64, 65, 150])
    func blockedMatchesThePlainDefinition(length: Int) {
        var random = RandomSource(seed: UInt64(length))
        let s = CausalSelfAttentionShape(sequences: 2, length: length, heads: 3, keyDim: 24, valueDim: 20, scale: 0.3)
        func randoms(_ count: Int) -> [Float] { (0..<count).map { _ in Float.random(in: -2...2, using: &random) } }
        let q = randoms(s.rows * 3 * 24), k = randoms(q.count), v = randoms(s.rows * 3 * 20), dO = randoms(v.count)
        let (output, lse) = causalSelfAttention(query: q, keys: k, values: v, shape: s)
        let (expectedOutput, expectedLSE) = Self.naiveForward(query: q, keys: k, values: v, shape: s)
        Self.expectClose(output, expectedOutput, "output")
        Self.expectClose(lse, expectedLSE, "log-sum-exp")
        let gradients = causalSelfAttentionBackward(query: q, keys: k, values: v, output: output, logSumExp: lse, gradient: dO, shape: s)
        let expected = Self.naiveBackward(query: q, keys: k, values: v, output: output, gradient: dO, shape: s)
        Self.expectClose(gradients.query, expected.query, "dq")
        Self.expectClose(gradients.keys, expected.keys, "dk")
        Self.expectClose(gradients.values, expected.values, "dv")
    }

    static func expectClose(_ actual: [Float], _ expected: [Float], _ name: String) {
        #expect(actual.count == expected.count)
        let scale = expected.map { abs($0) }.max() ?? 0
        let worst = zip(actual, expected).map { abs($0 - $1) }.max() ?? 0
        #expect(worst <= 1e-5 * max(scale, 1), "\(name): \(worst) off at scale \(scale)")
    }

    /// The forward pass: outputs `[rows, heads, valueDim]` and the log-sum-exp of each query's scaled scores
    /// `[rows, heads]`.
    /// Index of position `i`'s head `h` in rows of `width` values per head.
    static func at(_ s: CausalSelfAttentionShape, _ i: Int, _ h: Int, _ width: Int) -> Int { (i * s.heads + h) * width }

    /// Query `i`'s scaled scores against keys `first...i` of its sequence, in Double.
    static func scores(_ q: [Float], _ k: [Float], _ s: CausalSelfAttentionShape, first: Int, i: Int, h: Int) -> [Double] {
        (first...i).map { j in
            (0..<s.keyDim).reduce(0.0) { $0 + Double(q[at(s, i, h, s.keyDim) + $1]) * Double(k[at(s, j, h, s.keyDim) + $1]) } * Double(s.scale)
        }
    }

    /// The plain definition, query by query in Double: softmax of the scaled scores, times the values.
    static func naiveForward(query q: [Float], keys k: [Float], values v: [Float], shape s: CausalSelfAttentionShape)
        -> (output: [Float], logSumExp: [Float]) {
        var output = [Float](repeating: 0, count: v.count), logSumExp = [Float](repeating: 0, count: s.rows * s.heads)
        for i in 0..<s.rows {
            let first = i / s.length * s.length
            for h in 0..<s.heads {
                let scores = Self.scores(q, k, s, first: first, i: i, h: h)
                let maximum = scores.max()!
                let weights = scores.map { exp($0 - maximum) }
                let sum = weights.reduce(0, +)
                for d in 0..<s.valueDim {
                    var total = 0.0
                    for (n, w) in weights.enumerated() { total += w * Double(v[at(s, first + n, h, s.valueDim) + d]) }
                    output[at(s, i, h, s.valueDim) + d] = Float(total / sum)
                }
                logSumExp[i * s.heads + h] = Float(maximum + log(sum))
            }
        }
        return (output, logSumExp)
    }

    /// The gradients by the chain rule, query by query in Double: `dv_j += p_ij dO_i`,
    /// `ds_ij = p_ij (dO_i · v_j − dO_i · O_i)`, `dq_i += ds_ij k_j · scale`, `dk_j += ds_ij q_i · scale`.
    static func naiveBackward(query q: [Float], keys k: [Float], values v: [Float], output o: [Float], gradient dO: [Float],
                              shape s: CausalSelfAttentionShape) -> (query: [Float], keys: [Float], values: [Float]) {
        var dq = [Double](repeating: 0, count: q.count), dk = dq, dv = [Double](repeating: 0, count: v.count)
        func inner(_ x: [Float], _ a: Int, _ y: [Float], _ b: Int, _ count: Int) -> Double {
            (0..<count).reduce(0.0) { $0 + Double(x[a + $1]) * Double(y[b + $1]) }
        }
        for i in 0..<s.rows {
            let first = i / s.length * s.length
            for h in 0..<s.heads {
                let scores = Self.scores(q, k, s, first: first, i: i, h: h)
                let maximum = scores.max()!
                let sum = scores.reduce(0.0) { $0 + exp($1 - maximum) }
                let oi = at(s, i, h, s.valueDim), qi = at(s, i, h, s.keyDim)
                let correction = inner(dO, oi, o, oi, s.valueDim)
                for (n, score) in scores.enumerated() {
                    let j = first + n, p = exp(score - maximum) / sum
                    let vj = at(s, j, h, s.valueDim), kj = at(s, j, h, s.keyDim)
                    let ds = p * (inner(dO, oi, v, vj, s.valueDim) - correction) * Double(s.scale)
                    for d in 0..<s.valueDim { dv[vj + d] += p * Double(dO[oi + d]) }
                    for d in 0..<s.keyDim {
                        dq[qi + d] += ds * Double(k[kj + d])
                        dk[kj + d] += ds * Double(q[qi + d])
                    }
                }
            }
        }
        return (dq.map(Float.init), dk.map(Float.init), dv.map(Float.init))
    }
}
