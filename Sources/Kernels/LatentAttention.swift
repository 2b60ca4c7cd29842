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

    var qkHeadDim: Int { qkNopeDim + qkRopeDim }
    var latentWidth: Int { kvLoraRank + qkRopeDim }
    /// Rows of `kv_b_proj` per head: the key part, then the value part.
    var kvBRowsPerHead: Int { qkNopeDim + vHeadDim }
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
///   - cache: `[positions, kvLoraRank + qkRopeDim]`: normalised `c_KV` then rotated `k_rope`.
///   - kvB: `kv_b_proj`, `[heads × (qkNopeDim + vHeadDim), kvLoraRank]` (its value half is used).
///   - keys: `kv_b_proj`'s key half, transposed per head.
///   - firstQueryPosition: position of query 0; query `t` sees positions `0...firstQueryPosition + t`.
/// - Returns: `[tokens, heads × vHeadDim]`.
public func latentAttention(
    query: [Float], cache: [Float], kvB: WeightMatrix, keys: AbsorbedKeys, shape s: LatentAttentionShape,
    tokens: Int, firstQueryPosition: Int, scale: Float
) -> [Float] {
    let positions = firstQueryPosition + tokens
    precondition(query.count == tokens * s.heads * s.qkHeadDim, "latentAttention query is \(query.count), expected \(tokens)×\(s.heads)×\(s.qkHeadDim)")
    precondition(cache.count >= positions * s.latentWidth, "latentAttention cache holds \(cache.count / s.latentWidth) positions, needs \(positions)")
    precondition(kvB.rows == s.heads * s.kvBRowsPerHead && kvB.columns == s.kvLoraRank,
                 "kv_b_proj is \(kvB.rows)×\(kvB.columns), expected \(s.heads * s.kvBRowsPerHead)×\(s.kvLoraRank)")
    var output = [Float](repeating: 0, count: tokens * s.heads * s.vHeadDim)
    let rank = s.kvLoraRank
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
    let latentQueries = Array(groupedMatmul(jobs, tokens: tokens).joined())
    // Each work item is one token and a contiguous group of heads. Within an item the cache is walked
    // position by position, each row serving every head of the group, so the cache is read twice per
    // item (scores, then the weighted sum) rather than twice per head.
    let groups = min(s.heads, max(1, ThreadPool.threads))
    query.withUnsafeBufferPointer { qBuffer in
      latentQueries.withUnsafeBufferPointer { lBuffer in
        cache.withUnsafeBufferPointer { cBuffer in
            output.withUnsafeMutableBufferPointer { oBuffer in
                let q = qBuffer.baseAddress!, c = cBuffer.baseAddress!, out = oBuffer.baseAddress!, latent = lBuffer.baseAddress!
                ThreadPool.parallelFor(tokens * groups) { items in
                    let maxHeads = (s.heads + groups - 1) / groups
                    let latentOut = UnsafeMutablePointer<Float>.allocate(capacity: maxHeads * rank)
                    let row = UnsafeMutablePointer<Float>.allocate(capacity: rank)
                    let scores = UnsafeMutablePointer<Float>.allocate(capacity: maxHeads * positions)
                    defer { [latentOut, row, scores].forEach { $0.deallocate() } }
                    for item in items {
                        let t = item / groups, group = item % groups
                        let heads = (s.heads * group / groups)..<(s.heads * (group + 1) / groups)
                        let visible = firstQueryPosition + t + 1
                        // Scores of every head of the group, one cache row at a time.
                        for p in 0..<visible {
                            let entry = c + p * s.latentWidth
                            for h in heads {
                                let i = h - heads.lowerBound
                                let qRope = q + (t * s.heads + h) * s.qkHeadDim + s.qkNopeDim
                                scores[i * positions + p] = (dot(latent + (h * tokens + t) * rank, entry, count: rank)
                                                             + dot(qRope, entry + rank, count: s.qkRopeDim)) * scale
                            }
                        }
                        for i in 0..<heads.count { softmax(scores + i * positions, count: visible) }
                        // o_lat[h] = Σ_p a[h, p] · c_KV[p], again one cache row at a time.
                        latentOut.initialize(repeating: 0, count: heads.count * rank)
                        for p in 0..<visible {
                            let entry = c + p * s.latentWidth
                            for i in 0..<heads.count { axpy(latentOut + i * rank, entry, scores[i * positions + p], count: rank) }
                        }
                        // out[h][j] = W_UV[h][j, :] · o_lat[h]
                        for (i, h) in heads.enumerated() {
                            let target = out + (t * s.heads + h) * s.vHeadDim
                            let packed = PackedVector(latentOut + i * rank, count: rank, for: kvB)
                            defer { packed.deallocate() }
                            for j in 0..<s.vHeadDim { target[j] = kvB.dot(row: h * s.kvBRowsPerHead + s.qkNopeDim + j, packed, scratch: row) }
                        }
                    }
                }
            }
        }
      }
    }
    return output
}

/// `y += a · x` over `count` values.
@inline(__always)
func axpy(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, _ a: Float, count: Int) {
    let rawX = UnsafeRawPointer(x), rawY = UnsafeMutableRawPointer(y)
    let scale = SIMD16<Float>(repeating: a)
    var i = 0
    while i + 16 <= count {
        let sum = rawY.loadUnaligned(fromByteOffset: i * 4, as: SIMD16<Float>.self)
            + scale * rawX.loadUnaligned(fromByteOffset: i * 4, as: SIMD16<Float>.self)
        rawY.storeBytes(of: sum, toByteOffset: i * 4, as: SIMD16<Float>.self)
        i += 16
    }
    while i < count {
        y[i] += a * x[i]
        i += 1
    }
}
