import Kernels
import Model

extension TrainingAttention {
    /// The backward pass, in the reverse order of `forward`.
    ///
    /// - Parameters:
    ///   - dy: gradient of the output `[rows, hidden]`.
    ///   - x: the forward pass's input.
    /// - Returns: the gradient of `x`.
    func backward(_ dy: [Float], input x: [Float], saved s: Saved, batch: BatchShape, angles: RotaryAngles,
                  _ p: ParameterSet, _ g: inout ParameterSet) -> [Float] {
        let rows = batch.rows
        let dAttended = oProj.backward(dy, input: s.attended, tokens: rows, p, &g)
        var (dQueries, dKeys, dValues) = causalSelfAttentionBackward(
            query: s.queries, keys: s.keys, values: s.values, output: s.attended, logSumExp: s.logSumExp,
            gradient: dAttended, shape: shape(batch))

        // Keys and values back into kv_b_proj's output; the shared rotary key collects every head's gradient.
        let perHead = shape.qkNopeDim + shape.vHeadDim
        var dExpanded = [Float](repeating: 0, count: rows * shape.heads * perHead)
        var dLatent = [Float](repeating: 0, count: rows * shape.latentWidth)
        for r in 0..<rows {
            for h in 0..<shape.heads {
                let target = (r * shape.heads + h) * perHead, key = (r * shape.heads + h) * shape.qkHeadDim, value = (r * shape.heads + h) * shape.vHeadDim
                dExpanded[target..<(target + shape.qkNopeDim)] = dKeys[key..<(key + shape.qkNopeDim)]
                dExpanded[(target + shape.qkNopeDim)..<(target + perHead)] = dValues[value..<(value + shape.vHeadDim)]
                for i in 0..<shape.qkRopeDim { dLatent[r * shape.latentWidth + shape.kvLoraRank + i] += dKeys[key + shape.qkNopeDim + i] }
            }
            let angle = angles.values[r % batch.length]
            rotateBackward(&dLatent, offset: r * shape.latentWidth + shape.kvLoraRank, count: shape.qkRopeDim, cos: angle.cos, sin: angle.sin,
                           interleaved: angles.interleaved)
        }
        dKeys = []
        dValues = []
        let dCKV = kvBProj.backward(dExpanded, input: s.cKV, tokens: rows, p, &g)
        var dCKVStrided = [Float](repeating: 0, count: rows * shape.latentWidth)
        for r in 0..<rows {
            dCKVStrided[(r * shape.latentWidth)..<(r * shape.latentWidth + shape.kvLoraRank)] = dCKV[(r * shape.kvLoraRank)..<((r + 1) * shape.kvLoraRank)]
        }
        kvANorm.backward(dCKVStrided, input: s.kvA, rows: rows, stride: shape.latentWidth, into: &dLatent, p, &g)
        var dx = kvAProjWithMQA.backward(dLatent, input: x, tokens: rows, p, &g)

        for r in 0..<rows {
            let angle = angles.values[r % batch.length]
            for h in 0..<shape.heads {
                rotateBackward(&dQueries, offset: (r * shape.heads + h) * shape.qkHeadDim + shape.qkNopeDim, count: shape.qkRopeDim,
                               cos: angle.cos, sin: angle.sin, interleaved: angles.interleaved)
            }
        }
        if let qProj {
            add(&dx, qProj.backward(dQueries, input: x, tokens: rows, p, &g))
        } else {
            let dQANormed = qBProj!.backward(dQueries, input: s.qANormed, tokens: rows, p, &g)
            let dQA = qANorm!.backward(dQANormed, input: s.qA, rows: rows, p, &g)
            add(&dx, qAProj!.backward(dQA, input: x, tokens: rows, p, &g))
        }
        return dx
    }
}
