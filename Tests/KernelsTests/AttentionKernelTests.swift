import Foundation
import Testing
@testable import Kernels

/// The one-pass attention kernel (`attend`) under both MLA forms, against a naive two-pass reference in
/// Double, on shapes that cross its blocks, chunks and thread splits.
@Suite(.serialized) struct AttentionKernelTests {
    /// Naive causal attention: `[queryTokens, heads, valueDim]` from per-head `[tokens, dim]` arrays.
    static func reference(query: [Float], keys: [Float], values: [Float], heads: Int, queryTokens: Int, keyTokens: Int,
                          keyDim: Int, valueDim: Int, firstQueryPosition: Int, scale: Float) -> [Double] {
        var output = [Double](repeating: 0, count: queryTokens * heads * valueDim)
        for h in 0..<heads {
            for i in 0..<queryTokens {
                let visible = firstQueryPosition + i + 1
                let scores = (0..<visible).map { j in
                    Double(scale) * (0..<keyDim).reduce(0.0) { sum, d in
                        sum + Double(query[(h * queryTokens + i) * keyDim + d]) * Double(keys[(h * keyTokens + j) * keyDim + d])
                    }
                }
                let largest = scores.max()!
                let weights = scores.map { exp($0 - largest) }
                let total = weights.reduce(0, +)
                for v in 0..<valueDim {
                    output[(i * heads + h) * valueDim + v] = (0..<visible).reduce(0.0) { sum, j in
                        sum + weights[j] / total * Double(values[(h * keyTokens + j) * valueDim + v])
                    }
                }
            }
        }
        return output
    }

    /// Queries of 1, 7 and 70 tokens (more than a chunk), after 0 to 2100 cached positions (blocks of 128,
    /// odd key counts, 4 or 8 parts of keys merged), value widths around the 16-wide register tile, with 1
    /// and 2 threads.
    @Test(arguments: [(1, 0, 16), (1, 2100, 19), (7, 130, 32), (70, 5, 8), (3, 1100, 40)], [1, 2])
    func causalAttentionMatchesTheReference(shape: (tokens: Int, cached: Int, valueDim: Int), threads: Int) {
        let saved = ThreadPool.threads
        ThreadPool.threads = threads
        defer { ThreadPool.threads = saved }
        let heads = 2, keyDim = 24, keyTokens = shape.cached + shape.tokens
        let query = ActivationQuantizationTests.values(heads * shape.tokens * keyDim, seed: 1).map { $0 * 3 }
        let keys = ActivationQuantizationTests.values(heads * keyTokens * keyDim, seed: 2)
        let values = ActivationQuantizationTests.values(heads * keyTokens * shape.valueDim, seed: 3)
        let out = causalAttention(query: query, keys: keys, values: values, heads: heads, queryTokens: shape.tokens, keyTokens: keyTokens,
                                  keyDim: keyDim, valueDim: shape.valueDim, firstQueryPosition: shape.cached, scale: 0.4)
        let expected = Self.reference(query: query, keys: keys, values: values, heads: heads, queryTokens: shape.tokens, keyTokens: keyTokens,
                                      keyDim: keyDim, valueDim: shape.valueDim, firstQueryPosition: shape.cached, scale: 0.4)
        let worst = zip(out, expected).map { abs(Double($0) - $1) }.max()!
        #expect(worst < 2e-6, "\(shape) threads \(threads): worst error \(worst)")
    }

    /// Decoding splits the keys the same way whatever the thread count, so the result is identical.
    @Test func decodingIsTheSameOnAnyThreadCount() {
        let saved = ThreadPool.threads
        defer { ThreadPool.threads = saved }
        let heads = 4, keyDim = 32, valueDim = 24, keyTokens = 3000
        let query = ActivationQuantizationTests.values(heads * keyDim, seed: 7)
        let keys = ActivationQuantizationTests.values(heads * keyTokens * keyDim, seed: 8)
        let values = ActivationQuantizationTests.values(heads * keyTokens * valueDim, seed: 9)
        let outputs = [1, 2, 3].map { threads in
            ThreadPool.threads = threads
            return causalAttention(query: query, keys: keys, values: values, heads: heads, queryTokens: 1, keyTokens: keyTokens,
                                   keyDim: keyDim, valueDim: valueDim, firstQueryPosition: keyTokens - 1, scale: 0.2)
        }
        #expect(outputs[0] == outputs[1] && outputs[1] == outputs[2])
    }

    /// Many query rows of one token (the heads of absorbed attention) over a short cache are shared among
    /// the threads, over a long one the keys are: either way the result does not depend on the thread count.
    @Test(arguments: [300, 3000])
    func oneTokenOfManyRowsIsTheSameOnAnyThreadCount(keyTokens: Int) {
        let saved = ThreadPool.threads
        defer { ThreadPool.threads = saved }
        let rows = 22, keyDim = 40, valueDim = 24
        let query = ActivationQuantizationTests.values(rows * keyDim, seed: 17)
        let keys = ActivationQuantizationTests.values(keyTokens * keyDim, seed: 18)
        let values = ActivationQuantizationTests.values(keyTokens * valueDim, seed: 19)
        let outputs = [1, 2, 3, 4].map { threads in
            ThreadPool.threads = threads
            var output = [Float](repeating: .nan, count: rows * valueDim)
            output.withUnsafeMutableBufferPointer { out in
                keys.withUnsafeBufferPointer { k in
                    values.withUnsafeBufferPointer { v in
                        attend(queries: query, rows: rows, keys: LatentRows(contiguous: k.baseAddress!, width: keyDim),
                               values: LatentRows(contiguous: v.baseAddress!, width: valueDim), valueDim: valueDim,
                               causal: CausalRows(firstPosition: keyTokens - 1, rowsPerToken: rows, firstRow: 0), scale: 0.2,
                               output: out.baseAddress!, outputStride: valueDim)
                    }
                }
            }
            return output
        }
        #expect(!outputs[0].contains { $0.isNaN })
        #expect(outputs[0] == outputs[1] && outputs[1] == outputs[2] && outputs[2] == outputs[3])
    }

    /// Queries `[tokens, heads, qkHeadDim]`, latent cache rows `[positions, latentWidth]` and `kv_b_proj`
    /// values for a latent-attention problem, from fixed seeds.
    static func latentInputs(_ s: LatentAttentionShape, tokens: Int, positions: Int) -> (query: [Float], cache: [Float], kvB: [Float]) {
        (ActivationQuantizationTests.values(tokens * s.heads * s.qkHeadDim, seed: 4),
         ActivationQuantizationTests.values(positions * s.latentWidth, seed: 5),
         ActivationQuantizationTests.values(s.heads * s.kvBRowsPerHead * s.kvLoraRank, seed: 6).map { $0 * 0.3 })
    }

    /// Absorbed attention over a latent cache equals the naive expanded computation: keys and values
    /// rebuilt per head from `kv_b_proj`, then ordinary attention.
    @Test(arguments: [(1, 1100), (4, 129), (9, 0)], [1, 2])
    func latentAttentionMatchesTheExpandedReference(shape: (tokens: Int, cached: Int), threads: Int) {
        let saved = ThreadPool.threads
        ThreadPool.threads = threads
        defer { ThreadPool.threads = saved }
        let s = LatentAttentionShape(heads: 3, qkNopeDim: 16, qkRopeDim: 8, vHeadDim: 12, kvLoraRank: 40)
        let positions = shape.cached + shape.tokens
        let (query, cache, kvBValues) = Self.latentInputs(s, tokens: shape.tokens, positions: positions)
        kvBValues.withUnsafeBytes { bytes in
            let kvB = WeightMatrix(rows: s.heads * s.kvBRowsPerHead, columns: s.kvLoraRank, format: .f32, data: bytes.baseAddress!)
            let out = cache.withUnsafeBufferPointer {
                latentAttention(query: query, cache: LatentRows(contiguous: $0.baseAddress!, width: s.latentWidth), kvB: kvB, keys: AbsorbedKeys(kvB: kvB, shape: s), shape: s,
                                tokens: shape.tokens, firstQueryPosition: shape.cached, scale: 0.3)
            }
            // Expanded: k[h, p] = [W_UK[h] c_p, k_rope_p], v[h, p] = W_UV[h] c_p; queries per head.
            var keys = [Float](), values = [Float](), queries = [Float]()
            for h in 0..<s.heads {
                for p in 0..<positions {
                    let latent = cache[(p * s.latentWidth)..<(p * s.latentWidth + s.kvLoraRank)]
                    func project(_ row: Int) -> Float {
                        zip(latent, kvBValues[(row * s.kvLoraRank)..<((row + 1) * s.kvLoraRank)]).reduce(0) { $0 + $1.0 * $1.1 }
                    }
                    keys += (0..<s.qkNopeDim).map { project(h * s.kvBRowsPerHead + $0) }
                    keys += cache[(p * s.latentWidth + s.kvLoraRank)..<((p + 1) * s.latentWidth)]
                    values += (0..<s.vHeadDim).map { project(h * s.kvBRowsPerHead + s.qkNopeDim + $0) }
                }
                for t in 0..<shape.tokens {
                    queries += query[((t * s.heads + h) * s.qkHeadDim)..<((t * s.heads + h + 1) * s.qkHeadDim)]
                }
            }
            let expected = Self.reference(query: queries, keys: keys, values: values, heads: s.heads, queryTokens: shape.tokens,
                                          keyTokens: positions, keyDim: s.qkHeadDim, valueDim: s.vHeadDim,
                                          firstQueryPosition: shape.cached, scale: 0.3)
            let worst = zip(out, expected).map { abs(Double($0) - $1) }.max()!
            #expect(worst < 1e-5, "\(shape) threads \(threads): worst error \(worst)")
        }
    }
}
