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
        let perHead = qkNopeDim + vHeadDim
        var dExpanded = [Float](repeating: 0, count: rows * heads * perHead)
        var dLatent = [Float](repeating: 0, count: rows * latentWidth)
        for r in 0..<rows {
            for h in 0..<heads {
                let target = (r * heads + h) * perHead, key = (r * heads + h) * qkHeadDim, value = (r * heads + h) * vHeadDim
                dExpanded[target..<(target + qkNopeDim)] = dKeys[key..<(key + qkNopeDim)]
                dExpanded[(target + qkNopeDim)..<(target + perHead)] = dValues[value..<(value + vHeadDim)]
                for i in 0..<qkRopeDim { dLatent[r * latentWidth + kvLoraRank + i] += dKeys[key + qkNopeDim + i] }
            }
            let angle = angles.values[r % batch.length]
            rotateBackward(&dLatent, offset: r * latentWidth + kvLoraRank, count: qkRopeDim, cos: angle.cos, sin: angle.sin,
                           interleaved: angles.interleaved)
        }
        dKeys = []
        dValues = []
        let dCKV = kvBProj.backward(dExpanded, input: s.cKV, tokens: rows, p, &g)
        var dCKVStrided = [Float](repeating: 0, count: rows * latentWidth)
        for r in 0..<rows {
            dCKVStrided[(r * latentWidth)..<(r * latentWidth + kvLoraRank)] = dCKV[(r * kvLoraRank)..<((r + 1) * kvLoraRank)]
        }
        kvANorm.backward(dCKVStrided, input: s.kvA, rows: rows, stride: latentWidth, into: &dLatent, p, &g)
        var dx = kvAProjWithMQA.backward(dLatent, input: x, tokens: rows, p, &g)

        for r in 0..<rows {
            let angle = angles.values[r % batch.length]
            for h in 0..<heads {
                rotateBackward(&dQueries, offset: (r * heads + h) * qkHeadDim + qkNopeDim, count: qkRopeDim,
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
