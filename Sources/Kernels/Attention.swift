import Foundation

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
    query.withUnsafeBufferPointer { qBuffer in
        keys.withUnsafeBufferPointer { kBuffer in
            values.withUnsafeBufferPointer { vBuffer in
                output.withUnsafeMutableBufferPointer { oBuffer in
                    let q = qBuffer.baseAddress!, k = kBuffer.baseAddress!, v = vBuffer.baseAddress!, o = oBuffer.baseAddress!
                    // One (head, query) pair per item; each writes its own output row.
                    ThreadPool.parallelFor(heads * queryTokens) { items in
                        let scores = UnsafeMutablePointer<Float>.allocate(capacity: keyTokens)
                        defer { scores.deallocate() }
                        for item in items {
                            let h = item / queryTokens, i = item % queryTokens
                            let visible = firstQueryPosition + i + 1
                            let qRow = q + (h * queryTokens + i) * keyDim
                            for j in 0..<visible {
                                scores[j] = dot(qRow, k + (h * keyTokens + j) * keyDim, count: keyDim) * scale
                            }
                            softmax(scores, count: visible)
                            let target = o + (i * heads + h) * valueDim
                            for j in 0..<visible { axpy(target, v + (h * keyTokens + j) * valueDim, scores[j], count: valueDim) }
                        }
                    }
                }
            }
        }
    }
    return output
}
