import Kernels
import Model

/// Multi-head latent attention for training: the expanded form over whole sequences, with its backward pass.
///
/// Queries come from `q_proj`, or from `q_b_proj(norm(q_a_proj(x)))` with q-LoRA; the latent
/// `kv_a_proj_with_mqa(x)` splits into `c_KV`, normalised and expanded per head by `kv_b_proj` into the
/// non-rotary keys and the values, and one rotary key `k_rope` shared by every head (DeepSeek-V2 §2.1).
struct TrainingAttention: Sendable {
    let qProj: TrainingLinear?
    let qAProj: TrainingLinear?
    let qANorm: TrainingNorm?
    let qBProj: TrainingLinear?
    let kvAProjWithMQA: TrainingLinear
    let kvANorm: TrainingNorm
    let kvBProj: TrainingLinear
    let oProj: TrainingLinear
    let shape: LatentAttentionShape
    let softmaxScale: Float

    init(config c: ModelConfig, layer l: Int, in p: ParameterSet, precision: Precision) {
        let spec = { (part: TensorNames.AttentionPart) in ParameterLayout.attention(c, l, part) }
        if c.qLoraRank != nil {
            qProj = nil
            qAProj = TrainingLinear(spec(.qAProj)!, bias: spec(.qAProjBias), in: p, precision: precision)
            qANorm = TrainingNorm(spec(.qANorm)!, epsilon: c.rmsNormEps, in: p)
            qBProj = TrainingLinear(spec(.qBProj)!, in: p, precision: precision)
        } else {
            qProj = TrainingLinear(spec(.qProj)!, in: p, precision: precision)
            (qAProj, qANorm, qBProj) = (nil, nil, nil)
        }
        kvAProjWithMQA = TrainingLinear(spec(.kvAProjWithMQA)!, bias: spec(.kvAProjWithMQABias), in: p, precision: precision)
        kvANorm = TrainingNorm(spec(.kvANorm)!, epsilon: c.rmsNormEps, in: p)
        kvBProj = TrainingLinear(spec(.kvBProj)!, in: p, precision: precision)
        oProj = TrainingLinear(spec(.oProj)!, bias: spec(.oProjBias), in: p, precision: precision)
        shape = LatentAttentionShape(config: c)
        softmaxScale = c.softmaxScale
    }


    /// What the backward pass needs of a forward pass.
    struct Saved {
        /// `q_a_proj(x)` before its norm (q-LoRA only) and after it.
        let qA: [Float]
        let qANormed: [Float]
        /// `kv_a_proj_with_mqa(x)` `[rows, latentWidth]`, before the norm and rotation.
        let kvA: [Float]
        /// Normalised `c_KV` `[rows, kvLoraRank]`.
        let cKV: [Float]
        let queries: [Float]
        let keys: [Float]
        let values: [Float]
        let attended: [Float]
        let logSumExp: [Float]

        /// Bytes of `Float` activations held.
        var byteCount: Int { 4 * [qA, qANormed, kvA, cKV, queries, keys, values, attended, logSumExp].reduce(0) { $0 + $1.count } }
    }

    func shape(_ batch: BatchShape) -> CausalSelfAttentionShape {
        CausalSelfAttentionShape(sequences: batch.sequences, length: batch.length, heads: shape.heads,
                                 keyDim: shape.qkHeadDim, valueDim: shape.vHeadDim, scale: softmaxScale)
    }

    /// - Parameters:
    ///   - x: normalised hidden states `[rows, hidden]`.
    ///   - angles: rotary cos/sin of positions `0..<batch.length` (each sequence starts at 0).
    /// - Returns: `[rows, hidden]` and the activations to keep.
    func forward(_ x: [Float], batch: BatchShape, angles: RotaryAngles, _ p: ParameterSet) -> (output: [Float], saved: Saved) {
        let rows = batch.rows
        var qA: [Float] = [], qANormed: [Float] = [], queries: [Float]
        if let qProj {
            queries = qProj.forward(x, tokens: rows, p)
        } else {
            qA = qAProj!.forward(x, tokens: rows, p)
            qANormed = qANorm!.forward(qA, rows: rows, p)
            queries = qBProj!.forward(qANormed, tokens: rows, p)
        }
        for r in 0..<rows {
            let angle = angles.values[r % batch.length]
            for h in 0..<shape.heads {
                rotate(&queries, offset: (r * shape.heads + h) * shape.qkHeadDim + shape.qkNopeDim, count: shape.qkRopeDim,
                       cos: angle.cos, sin: angle.sin, interleaved: angles.interleaved)
            }
        }
        let kvA = kvAProjWithMQA.forward(x, tokens: rows, p)
        var latent = kvA
        kvANorm.forward(&latent, rows: rows, stride: shape.latentWidth, p)
        var cKV = [Float](repeating: 0, count: rows * shape.kvLoraRank)
        for r in 0..<rows {
            cKV[(r * shape.kvLoraRank)..<((r + 1) * shape.kvLoraRank)] = latent[(r * shape.latentWidth)..<(r * shape.latentWidth + shape.kvLoraRank)]
            let angle = angles.values[r % batch.length]
            rotate(&latent, offset: r * shape.latentWidth + shape.kvLoraRank, count: shape.qkRopeDim, cos: angle.cos, sin: angle.sin, interleaved: angles.interleaved)
        }
        let expanded = kvBProj.forward(cKV, tokens: rows, p)
        var keys = [Float](repeating: 0, count: rows * shape.heads * shape.qkHeadDim)
        var values = [Float](repeating: 0, count: rows * shape.heads * shape.vHeadDim)
        let perHead = shape.qkNopeDim + shape.vHeadDim
        for r in 0..<rows {
            for h in 0..<shape.heads {
                let source = (r * shape.heads + h) * perHead, key = (r * shape.heads + h) * shape.qkHeadDim, value = (r * shape.heads + h) * shape.vHeadDim
                keys[key..<(key + shape.qkNopeDim)] = expanded[source..<(source + shape.qkNopeDim)]
                keys[(key + shape.qkNopeDim)..<(key + shape.qkHeadDim)] = latent[(r * shape.latentWidth + shape.kvLoraRank)..<((r + 1) * shape.latentWidth)]
                values[value..<(value + shape.vHeadDim)] = expanded[(source + shape.qkNopeDim)..<(source + perHead)]
            }
        }
        let (attended, logSumExp) = causalSelfAttention(query: queries, keys: keys, values: values, shape: shape(batch))
        let output = oProj.forward(attended, tokens: rows, p)
        return (output, Saved(qA: qA, qANormed: qANormed, kvA: kvA, cKV: cKV, queries: queries, keys: keys, values: values,
                              attended: attended, logSumExp: logSumExp))
    }
}
