/// Causal multi-head scaled-dot-product attention over contiguous per-head keys and values.
///
/// - Parameters:
///   - query: `[heads, queryTokens, keyDim]`.
///   - keys: `[heads, keyTokens, keyDim]`.
///   - values: `[heads, keyTokens, valueDim]`.
///   - firstQueryPosition: absolute position of query 0; query `i` sees keys `0...firstQueryPosition + i`.
///   - scale: multiplies every score before the softmax.
/// - Returns: `[queryTokens, heads, valueDim]`.
public func causalAttention(
    query: [Float], keys: [Float], values: [Float],
    heads: Int, queryTokens: Int, keyTokens: Int, keyDim: Int, valueDim: Int,
    firstQueryPosition: Int, scale: Float
) -> [Float] {
    precondition(query.count == heads * queryTokens * keyDim, "attention query is \(query.count), expected \(heads)×\(queryTokens)×\(keyDim)")
    precondition(keys.count == heads * keyTokens * keyDim, "attention keys are \(keys.count), expected \(heads)×\(keyTokens)×\(keyDim)")
    precondition(values.count == heads * keyTokens * valueDim, "attention values are \(values.count), expected \(heads)×\(keyTokens)×\(valueDim)")
    precondition(firstQueryPosition + queryTokens <= keyTokens, "attention queries reach past the keys")
    var output = [Float](repeating: 0, count: queryTokens * heads * valueDim)
    var scores = [Float](repeating: 0, count: keyTokens)
    query.withUnsafeBufferPointer { q in
        keys.withUnsafeBufferPointer { k in
            values.withUnsafeBufferPointer { v in
                for h in 0..<heads {
                    for i in 0..<queryTokens {
                        let visible = firstQueryPosition + i + 1
                        let qRow = q.baseAddress! + (h * queryTokens + i) * keyDim
                        for j in 0..<visible {
                            scores[j] = dot(qRow, k.baseAddress! + (h * keyTokens + j) * keyDim, count: keyDim) * scale
                        }
                        softmax(&scores, range: 0..<visible)
                        let outBase = (i * heads + h) * valueDim
                        for j in 0..<visible {
                            let p = scores[j]
                            let vRow = (h * keyTokens + j) * valueDim
                            for d in 0..<valueDim { output[outBase + d] += p * v[vRow + d] }
                        }
                    }
                }
            }
        }
    }
    return output
}
