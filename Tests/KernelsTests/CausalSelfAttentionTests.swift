import Foundation
import Testing
@testable import Kernels

/// The blocked causal self-attention (matrix products over blocks of queries) against the row-at-a-time
/// version it replaced, which keeps no scores and sums key by key.
struct CausalSelfAttentionTests {
    @Test(arguments: [1, 5, 63, 64, 65, 150])
    func blockedMatchesRowAtATime(length: Int) {
        var random = RandomSource(seed: UInt64(length))
        let s = CausalSelfAttentionShape(sequences: 2, length: length, heads: 3, keyDim: 24, valueDim: 20, scale: 0.3)
        func randoms(_ count: Int) -> [Float] { (0..<count).map { _ in Float.random(in: -2...2, using: &random) } }
        let q = randoms(s.rows * 3 * 24), k = randoms(q.count), v = randoms(s.rows * 3 * 20), dO = randoms(v.count)
        let (output, lse) = causalSelfAttention(query: q, keys: k, values: v, shape: s)
        let (expectedOutput, expectedLSE) = Self.naiveForward(query: q, keys: k, values: v, shape: s)
        Self.expectClose(output, expectedOutput, "output")
        Self.expectClose(lse, expectedLSE, "log-sum-exp")
        let gradients = causalSelfAttentionBackward(query: q, keys: k, values: v, output: output, logSumExp: lse, gradient: dO, shape: s)
        let expected = Self.naiveBackward(query: q, keys: k, values: v, output: output, logSumExp: lse, gradient: dO, shape: s)
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
    static func naiveForward(query: [Float], keys: [Float], values: [Float], shape s: CausalSelfAttentionShape)
        -> (output: [Float], logSumExp: [Float]) {
        precondition(query.count == s.rows * s.heads * s.keyDim && keys.count == query.count, "causalSelfAttention queries or keys are not \(s.rows)×\(s.heads)×\(s.keyDim)")
        precondition(values.count == s.rows * s.heads * s.valueDim, "causalSelfAttention values are not \(s.rows)×\(s.heads)×\(s.valueDim)")
        var output = [Float](repeating: 0, count: s.rows * s.heads * s.valueDim)
        var logSumExp = [Float](repeating: 0, count: s.rows * s.heads)
        query.withUnsafeBufferPointer { q in
            keys.withUnsafeBufferPointer { k in
                values.withUnsafeBufferPointer { v in
                    output.withUnsafeMutableBufferPointer { o in
                        logSumExp.withUnsafeMutableBufferPointer { lse in
                            ThreadPool.parallelFor(s.sequences * s.heads) { units in
                                let scores = UnsafeMutablePointer<Float>.allocate(capacity: s.length)
                                defer { scores.deallocate() }
                                for unit in units {
                                    let sequence = unit / s.heads, h = unit % s.heads, first = sequence * s.length
                                    for i in 0..<s.length {
                                        let row = first + i
                                        let qi = q.baseAddress! + (row * s.heads + h) * s.keyDim
                                        var maximum = -Float.infinity
                                        for j in 0...i {
                                            scores[j] = dot(qi, k.baseAddress! + ((first + j) * s.heads + h) * s.keyDim, count: s.keyDim)
                                            maximum = max(maximum, scores[j] * s.scale)
                                        }
                                        let sum = exponentiate(scores, count: i + 1, scale: s.scale, shift: maximum)
                                        let oi = o.baseAddress! + (row * s.heads + h) * s.valueDim
                                        let inverse = 1 / sum
                                        for j in 0...i {
                                            axpy(scores[j] * inverse, v.baseAddress! + ((first + j) * s.heads + h) * s.valueDim, into: oi, count: s.valueDim)
                                        }
                                        lse[row * s.heads + h] = maximum + log(sum)
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return (output, logSumExp)
    }

    /// The backward pass: gradients of the queries, keys and values from the output gradient.
    ///
    /// - Parameters:
    ///   - output, logSumExp: what `causalSelfAttention` returned for these inputs.
    ///   - gradient: `[rows, heads, valueDim]`.
    /// - Returns: `dq` and `dk` `[rows, heads, keyDim]`, `dv` `[rows, heads, valueDim]`.
    static func naiveBackward(query: [Float], keys: [Float], values: [Float], output: [Float], logSumExp: [Float],
                                            gradient: [Float], shape s: CausalSelfAttentionShape) -> (query: [Float], keys: [Float], values: [Float]) {
        precondition(gradient.count == output.count && output.count == s.rows * s.heads * s.valueDim, "causalSelfAttentionBackward gradient is not \(s.rows)×\(s.heads)×\(s.valueDim)")
        precondition(logSumExp.count == s.rows * s.heads, "causalSelfAttentionBackward needs \(s.rows)×\(s.heads) log-sum-exps")
        var dq = [Float](repeating: 0, count: query.count), dk = dq
        var dv = [Float](repeating: 0, count: values.count)
        query.withUnsafeBufferPointer { q in
        keys.withUnsafeBufferPointer { k in
        values.withUnsafeBufferPointer { v in
        output.withUnsafeBufferPointer { o in
        logSumExp.withUnsafeBufferPointer { lse in
        gradient.withUnsafeBufferPointer { dO in
        dq.withUnsafeMutableBufferPointer { dqBuffer in
        dk.withUnsafeMutableBufferPointer { dkBuffer in
        dv.withUnsafeMutableBufferPointer { dvBuffer in
            let (q, k, v, o, lse, dO) = (q.baseAddress!, k.baseAddress!, v.baseAddress!, o.baseAddress!, lse.baseAddress!, dO.baseAddress!)
            let (dQ, dK, dV) = (dqBuffer.baseAddress!, dkBuffer.baseAddress!, dvBuffer.baseAddress!)
            ThreadPool.parallelFor(s.sequences * s.heads) { units in
                for unit in units {
                    let sequence = unit / s.heads, h = unit % s.heads, first = sequence * s.length
                    for i in 0..<s.length {
                        let row = first + i
                        let keyOffset = (row * s.heads + h) * s.keyDim, valueOffset = (row * s.heads + h) * s.valueDim
                        let qi = q + keyOffset, dOi = dO + valueOffset, dQi = dQ + keyOffset
                        // D_i = dO_i · O_i = Σ_j p_ij dp_ij, the softmax's correction term.
                        let correction = dot(dOi, o + valueOffset, count: s.valueDim)
                        let shift = lse[row * s.heads + h]
                        for j in 0...i {
                            let keyJ = ((first + j) * s.heads + h) * s.keyDim, valueJ = ((first + j) * s.heads + h) * s.valueDim
                            let p = exp(dot(qi, k + keyJ, count: s.keyDim) * s.scale - shift)
                            let dp = dot(dOi, v + valueJ, count: s.valueDim)
                            let ds = p * (dp - correction) * s.scale
                            axpy(ds, k + keyJ, into: dQi, count: s.keyDim)
                            axpy(ds, qi, into: dK + keyJ, count: s.keyDim)
                            axpy(p, dOi, into: dV + valueJ, count: s.valueDim)
                        }
                    }
                }
            }
        }}}}}}}}}
        return (dq, dk, dv)
    }

    /// `target[c] += a · source[c]` for `c < count`.
    static func axpy(_ a: Float, _ source: UnsafePointer<Float>, into target: UnsafeMutablePointer<Float>, count: Int) {
        let s = UnsafeRawPointer(source), t = UnsafeMutableRawPointer(target)
        let factor = SIMD8<Float>(repeating: a)
        var c = 0
        while c + 8 <= count {
            var accumulator = t.loadUnaligned(fromByteOffset: c * 4, as: SIMD8<Float>.self)
            multiplyAdd(&accumulator, factor, loadFloats(s, byteOffset: c * 4))
            t.storeBytes(of: accumulator, toByteOffset: c * 4, as: SIMD8<Float>.self)
            c += 8
        }
        while c < count {
            target[c] += a * source[c]
            c += 1
        }
    }
}
