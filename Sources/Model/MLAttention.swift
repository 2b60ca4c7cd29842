import Kernels

extension LatentAttentionShape {
    /// The attention dimensions of `config`.
    public init(config c: ModelConfig) {
        self.init(heads: c.numAttentionHeads, qkNopeDim: c.qkNopeHeadDim, qkRopeDim: c.qkRopeHeadDim,
                  vHeadDim: c.vHeadDim, kvLoraRank: c.kvLoraRank)
    }
}

/// Multi-head latent attention (DeepSeek-V2 §2.1): keys and values are rebuilt from a
/// compressed latent `c_KV` plus one rotary key `k_rope` shared by all heads, and only
/// those are cached.
///
/// Two forms attend over the cache (`Form`): the expanded one the reference uses, and the absorbed
/// one that never leaves latent space; each call takes the cheaper unless told otherwise.
public struct MLAttention: Sendable {
    let qProj: Linear?
    let qAProj: Linear?
    let qANorm: RMSNorm?
    let qBProj: Linear?
    let kvAProjWithMQA: Linear
    let kvANorm: RMSNorm
    let kvBProj: Linear
    /// `kv_b_proj`'s key half transposed per head, for the absorbed form.
    let absorbedKeys: AbsorbedKeys
    let oProj: Linear
    let shape: LatentAttentionShape
    let softmaxScale: Float

    init(config c: ModelConfig, layer l: Int, loader: WeightLoader) throws {
        shape = LatentAttentionShape(config: c)
        softmaxScale = c.softmaxScale
        // Every part this config has is in the layout; `!` below reads parts the config guarantees.
        let spec = { (part: TensorNames.AttentionPart) in ParameterLayout.attention(c, l, part) }
        if c.qLoraRank != nil {
            qProj = nil
            qAProj = try loader.linear(spec(.qAProj)!, bias: spec(.qAProjBias))
            qANorm = try loader.rmsNorm(spec(.qANorm)!)
            qBProj = try loader.linear(spec(.qBProj)!)
        } else {
            qProj = try loader.linear(spec(.qProj)!)
            (qAProj, qANorm, qBProj) = (nil, nil, nil)
        }
        kvAProjWithMQA = try loader.linear(spec(.kvAProjWithMQA)!, bias: spec(.kvAProjWithMQABias))
        kvANorm = try loader.rmsNorm(spec(.kvANorm)!)
        kvBProj = try loader.linear(spec(.kvBProj)!)
        oProj = try loader.linear(spec(.oProj)!, bias: spec(.oProjBias))
        absorbedKeys = AbsorbedKeys(kvB: kvBProj.weight, shape: shape)
    }


    /// Queries `[tokens, heads, qkHeadDim]` from the first projection of `x` (`q_proj`, or `q_a_proj`
    /// to be normalised and expanded), with the rotary part rotated.
    func queries(_ projected: [Float], tokens: Int, angles: [(cos: [Float], sin: [Float])], interleaved: Bool, path: ProductPath) -> [Float] {
        var q = projected
        if qProj == nil {
            qANorm!(&q, rows: tokens)
            q = qBProj!(q, tokens: tokens, path: path)
        }
        for t in 0..<tokens {
            for h in 0..<shape.heads {
                rotate(&q, offset: (t * shape.heads + h) * shape.qkHeadDim + shape.qkNopeDim, count: shape.qkRopeDim,
                       cos: angles[t].cos, sin: angles[t].sin, interleaved: interleaved)
            }
        }
        return q
    }

    /// Latents `[tokens, kvLoraRank + qkRopeDim]` from `kv_a_proj_with_mqa(x)`: normalised `c_KV`,
    /// then rotated `k_rope`.
    func latents(_ projected: [Float], tokens: Int, angles: [(cos: [Float], sin: [Float])], interleaved: Bool) -> [Float] {
        var kv = projected
        kvANorm(&kv, rows: tokens, stride: shape.latentWidth)
        for t in 0..<tokens {
            rotate(&kv, offset: t * shape.latentWidth + shape.kvLoraRank, count: shape.qkRopeDim,
                   cos: angles[t].cos, sin: angles[t].sin, interleaved: interleaved)
        }
        return kv
    }

    /// Which computation attends over the cache; both give the same result up to rounding.
    public enum Form: Sendable {
        /// Whichever needs fewer multiply-adds for this call (absorbed for decoding, expanded for a prefill).
        case automatic
        /// Expand every cached latent into per-head keys and values through `kv_b_proj`, as the reference does.
        case expanded
        /// Fold `kv_b_proj` into the query and output and attend over the latents directly.
        case absorbed
    }


    /// The cheaper form for `tokens` new positions after `start` cached ones.
    func cheaperForm(tokens: Int, start: Int) -> Form {
        let positions = start + tokens
        let expanded = positions * kvBProj.outputSize * shape.kvLoraRank + tokens * positions * shape.heads * (shape.qkHeadDim + shape.vHeadDim)
        let absorbed = tokens * shape.heads * (shape.qkNopeDim + shape.vHeadDim) * shape.kvLoraRank + tokens * positions * shape.heads * (2 * shape.kvLoraRank + shape.qkRopeDim)
        return absorbed < expanded ? .absorbed : .expanded
    }

    /// Attends each sequence's new positions over its cache blocks and themselves, writing their latents
    /// into its blocks.
    ///
    /// - Parameters:
    ///   - x: normalised hidden states `[layout.rows, hidden]`.
    ///   - angles: rotary cos/sin for each row's position (shared by every layer).
    /// - Returns: `[layout.rows, hidden]`.
    func callAsFunction(_ x: [Float], layout: BatchLayout, layer: Int, cache: inout LatentCache, angles: RotaryAngles, form: Form) -> [Float] {
        let tokens = layout.rows, path = layout.path
        // Both projections of x under one dispatch.
        let projected = Linear.grouped([(qProj ?? qAProj!, x), (kvAProjWithMQA, x)], tokens: tokens, path: path)
        let q = queries(projected[0], tokens: tokens, angles: angles.values, interleaved: angles.interleaved, path: path)
        let kv = latents(projected[1], tokens: tokens, angles: angles.values, interleaved: angles.interleaved)
        var attended = [Float](repeating: 0, count: tokens * shape.heads * shape.vHeadDim)
        let queryWidth = shape.heads * shape.qkHeadDim, outputWidth = shape.heads * shape.vHeadDim
        for span in layout.spans {
            cache.write(layer: layer, table: span.table, start: span.start,
                        latents: Array(kv[(span.row * shape.latentWidth)..<((span.row + span.count) * shape.latentWidth)]))
            let query = Array(q[(span.row * queryWidth)..<((span.row + span.count) * queryWidth)])
            let chosen = form == .automatic ? cheaperForm(tokens: span.count, start: span.start) : form
            let output = cache.withRows(layer: layer, table: span.table) { rows in
                chosen == .absorbed
                    ? latentAttention(query: query, cache: rows, kvB: kvBProj.weight, keys: absorbedKeys, shape: shape, tokens: span.count,
                                      firstQueryPosition: span.start, scale: softmaxScale)
                    : expandedAttention(query, tokens: span.count, start: span.start, cached: rows)
            }
            attended.replaceSubrange((span.row * outputWidth)..<((span.row + span.count) * outputWidth), with: output)
        }
        return oProj(attended, tokens: tokens, path: path)
    }

    /// Positions whose latents are expanded to one head's keys and values at a time (a long cache would
    /// otherwise hold every position's expansion at once).
    static let expansionBlock = 512

    /// The reference computation: per-head keys and values rebuilt from every cached latent.
    ///
    /// One head at a time, so a long prefill holds one head's keys and values, not every head's.
    func expandedAttention(_ q: [Float], tokens: Int, start: Int, cached: LatentRows,
                           block: Int = MLAttention.expansionBlock) -> [Float] {
        let positions = start + tokens
        let perHead = shape.qkNopeDim + shape.vHeadDim
        let block = min(positions, block)
        var output = [Float](repeating: 0, count: tokens * shape.heads * shape.vHeadDim)
        var keys = [Float](repeating: 0, count: positions * shape.qkHeadDim)
        var values = [Float](repeating: 0, count: positions * shape.vHeadDim)
        var query = [Float](repeating: 0, count: tokens * shape.qkHeadDim)
        var cKV = [Float](repeating: 0, count: block * shape.kvLoraRank)
        var rowsOfBlock = [Float](repeating: 0, count: block * shape.latentWidth)
        for h in 0..<shape.heads {
            // This head's keys and values (eq. 9–11 of the V2 paper): its rows of kv_b_proj times every
            // latent, a block of positions at a time, so only this head's keys and values grow with the cache.
            let rows = kvBProj.outputs((h * perHead)..<((h + 1) * perHead))
            for first in stride(from: 0, to: positions, by: block) {
                let count = min(block, positions - first)
                rowsOfBlock.withUnsafeMutableBufferPointer { cached.copy(rows: first..<(first + count), into: $0.baseAddress!) }
                for p in 0..<count {
                    let row = p * shape.latentWidth
                    cKV.replaceSubrange((p * shape.kvLoraRank)..<((p + 1) * shape.kvLoraRank), with: rowsOfBlock[row..<(row + shape.kvLoraRank)])
                }
                let expanded = rows(cKV, tokens: count)  // the first `count` rows of the block buffer
                for i in 0..<count {
                    let p = first + i, source = i * perHead, key = p * shape.qkHeadDim, value = p * shape.vHeadDim
                    keys[key..<(key + shape.qkNopeDim)] = expanded[source..<(source + shape.qkNopeDim)]
                    keys.replaceSubrange((key + shape.qkNopeDim)..<(key + shape.qkHeadDim), with: rowsOfBlock[(i * shape.latentWidth + shape.kvLoraRank)..<((i + 1) * shape.latentWidth)])
                    values[value..<(value + shape.vHeadDim)] = expanded[(source + shape.qkNopeDim)..<(source + perHead)]
                }
            }
            for t in 0..<tokens {
                let source = (t * shape.heads + h) * shape.qkHeadDim
                query[(t * shape.qkHeadDim)..<((t + 1) * shape.qkHeadDim)] = q[source..<(source + shape.qkHeadDim)]
            }
            let attended = causalAttention(
                query: query, keys: keys, values: values, heads: 1, queryTokens: tokens, keyTokens: positions,
                keyDim: shape.qkHeadDim, valueDim: shape.vHeadDim, firstQueryPosition: start, scale: softmaxScale)
            for t in 0..<tokens {
                let target = (t * shape.heads + h) * shape.vHeadDim
                output[target..<(target + shape.vHeadDim)] = attended[(t * shape.vHeadDim)..<((t + 1) * shape.vHeadDim)]
            }
        }
        return output
    }
}
