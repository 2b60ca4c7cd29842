import Foundation

/// Sizes of multi-head latent attention, as the kernels need them.
public struct LatentAttentionShape: Sendable {
    public let heads: Int
    public let qkNopeDim: Int
    public let qkRopeDim: Int
    public let vHeadDim: Int
    public let kvLoraRank: Int

    public init(heads: Int, qkNopeDim: Int, qkRopeDim: Int, vHeadDim: Int, kvLoraRank: Int) {
        self.heads = heads
        self.qkNopeDim = qkNopeDim
        self.qkRopeDim = qkRopeDim
        self.vHeadDim = vHeadDim
        self.kvLoraRank = kvLoraRank
    }

    public var qkHeadDim: Int { qkNopeDim + qkRopeDim }
    public var latentWidth: Int { kvLoraRank + qkRopeDim }
    /// Rows of `kv_b_proj` per head: the key part, then the value part.
    public var kvBRowsPerHead: Int { qkNopeDim + vHeadDim }
}

/// Causal MLA attention computed directly over the latent cache ("weight absorption",
/// DeepSeek-V2 §2.1.2; derivation in docs/Model.md).
///
/// For each query head h, `q_nope` is moved into latent space through the key half of
/// `kv_b_proj` (`q_lat = W_UKᵀ q_nope`, one product per head with `keys`, all heads under one
/// dispatch), so a score is `q_lat · c_KV + q_rope · k_rope`; the attention-weighted latent is
/// projected back through the value half (`W_UV`). The cache is never expanded.
///
/// - Parameters:
///   - query: `[tokens, heads, qkNopeDim + qkRopeDim]`, rotary part already rotated.
///   - cache: rows `[positions, kvLoraRank + qkRopeDim]`: normalised `c_KV` then rotated `k_rope`.
///   - kvB: `kv_b_proj`, `[heads × (qkNopeDim + vHeadDim), kvLoraRank]` (its value half is used).
///   - keys: `kv_b_proj`'s key half, transposed per head.
///   - firstQueryPosition: position of query 0; query `t` sees positions `0...firstQueryPosition + t`.
/// - Returns: `[tokens, heads × vHeadDim]`.
public func latentAttention(
    query: [Float], cache: LatentRows, kvB: WeightMatrix, keys: AbsorbedKeys, shape s: LatentAttentionShape,
    tokens: Int, firstQueryPosition: Int, scale: Float
) -> [Float] {
    precondition(query.count == tokens * s.heads * s.qkHeadDim, "latentAttention query is \(query.count), expected \(tokens)×\(s.heads)×\(s.qkHeadDim)")
    precondition(cache.width == s.latentWidth, "latentAttention cache rows are \(cache.width) wide, expected \(s.latentWidth)")
    precondition(kvB.rows == s.heads * s.kvBRowsPerHead && kvB.columns == s.kvLoraRank,
                 "kv_b_proj is \(kvB.rows)×\(kvB.columns), expected \(s.heads * s.kvBRowsPerHead)×\(s.kvLoraRank)")
    var output = [Float](repeating: 0, count: tokens * s.heads * s.vHeadDim)
    let rank = s.kvLoraRank, width = s.latentWidth
    // q_lat[h] = W_UK[h]ᵀ q_nope[h] for every head and token: [heads][tokens, rank].
    let jobs: [(weight: WeightMatrix, input: [Float])] = (0..<s.heads).map { h in
        var nope: [Float] = []
        nope.reserveCapacity(tokens * s.qkNopeDim)
        for t in 0..<tokens {
            let start = (t * s.heads + h) * s.qkHeadDim
            nope.append(contentsOf: query[start..<(start + s.qkNopeDim)])
        }
        return (keys.head(h), nope)
    }
    let latentQueries = groupedMatmul(jobs, tokens: tokens)
    // One query row per (token, head), [q_lat, q_rope], against the cache rows [c_KV, k_rope]; the
    // attention-weighted latents o_lat come back in the same row order.
    let rows = tokens * s.heads
    var queries = [Float](repeating: 0, count: rows * width)
    for t in 0..<tokens {
        for h in 0..<s.heads {
            let row = (t * s.heads + h) * width, rope = (t * s.heads + h) * s.qkHeadDim + s.qkNopeDim
            queries[row..<(row + rank)] = latentQueries[h][(t * rank)..<((t + 1) * rank)]
            queries[(row + rank)..<(row + width)] = query[rope..<(rope + s.qkRopeDim)]
        }
    }
    var latents = [Float](repeating: 0, count: rows * rank)
    queries.withUnsafeBufferPointer { q in
        latents.withUnsafeMutableBufferPointer { o in
            attend(queries: q.baseAddress!, rows: rows, keys: cache, values: nil, valueDim: rank,
                   causal: CausalRows(firstPosition: firstQueryPosition, rowsPerToken: s.heads), scale: scale,
                   output: o.baseAddress!, outputStride: rank)
        }
    }
    // out[t, h][j] = W_UV[h][j, :] · o_lat[t, h], one (token, head) pair per item.
    latents.withUnsafeBufferPointer { lBuffer in
        output.withUnsafeMutableBufferPointer { oBuffer in
            let latent = lBuffer.baseAddress!, out = oBuffer.baseAddress!
            ThreadPool.parallelFor(rows, grain: max(1, 65_536 / (s.vHeadDim * rank))) { items in
                let scratch = UnsafeMutablePointer<Float>.allocate(capacity: rank)
                defer { scratch.deallocate() }
                for item in items {
                    let h = item % s.heads
                    let packed = PackedVector(latent + item * rank, count: rank, for: kvB)
                    defer { packed.deallocate() }
                    let target = out + item * s.vHeadDim
                    let first = h * s.kvBRowsPerHead + s.qkNopeDim
                    kvB.dot(rows: first..<(first + s.vHeadDim), packed, into: target, scratch: scratch)
                }
            }
        }
    }
    return output
}

