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
    let heads: Int
    let qkNopeDim: Int
    let qkRopeDim: Int
    let vHeadDim: Int
    let kvLoraRank: Int
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
        heads = c.numAttentionHeads
        qkNopeDim = c.qkNopeHeadDim
        qkRopeDim = c.qkRopeHeadDim
        vHeadDim = c.vHeadDim
        kvLoraRank = c.kvLoraRank
        softmaxScale = c.softmaxScale
    }

    var qkHeadDim: Int { qkNopeDim + qkRopeDim }
    var latentWidth: Int { kvLoraRank + qkRopeDim }

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
        CausalSelfAttentionShape(sequences: batch.sequences, length: batch.length, heads: heads,
                                 keyDim: qkHeadDim, valueDim: vHeadDim, scale: softmaxScale)
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
            for h in 0..<heads {
                rotate(&queries, offset: (r * heads + h) * qkHeadDim + qkNopeDim, count: qkRopeDim,
                       cos: angle.cos, sin: angle.sin, interleaved: angles.interleaved)
            }
        }
        let kvA = kvAProjWithMQA.forward(x, tokens: rows, p)
        var latent = kvA
        kvANorm.forward(&latent, rows: rows, stride: latentWidth, p)
        var cKV = [Float](repeating: 0, count: rows * kvLoraRank)
        for r in 0..<rows {
            cKV[(r * kvLoraRank)..<((r + 1) * kvLoraRank)] = latent[(r * latentWidth)..<(r * latentWidth + kvLoraRank)]
            let angle = angles.values[r % batch.length]
            rotate(&latent, offset: r * latentWidth + kvLoraRank, count: qkRopeDim, cos: angle.cos, sin: angle.sin, interleaved: angles.interleaved)
        }
        let expanded = kvBProj.forward(cKV, tokens: rows, p)
        var keys = [Float](repeating: 0, count: rows * heads * qkHeadDim)
        var values = [Float](repeating: 0, count: rows * heads * vHeadDim)
        let perHead = qkNopeDim + vHeadDim
        for r in 0..<rows {
            for h in 0..<heads {
                let source = (r * heads + h) * perHead, key = (r * heads + h) * qkHeadDim, value = (r * heads + h) * vHeadDim
                keys[key..<(key + qkNopeDim)] = expanded[source..<(source + qkNopeDim)]
                keys[(key + qkNopeDim)..<(key + qkHeadDim)] = latent[(r * latentWidth + kvLoraRank)..<((r + 1) * latentWidth)]
                values[value..<(value + vHeadDim)] = expanded[(source + qkNopeDim)..<(source + perHead)]
            }
        }
        let (attended, logSumExp) = causalSelfAttention(query: queries, keys: keys, values: values, shape: shape(batch))
        let output = oProj.forward(attended, tokens: rows, p)
        return (output, Saved(qA: qA, qANormed: qANormed, kvA: kvA, cKV: cKV, queries: queries, keys: keys, values: values,
                              attended: attended, logSumExp: logSumExp))
    }
}
