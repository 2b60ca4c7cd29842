import Foundation

/// Causal self-attention over whole packed sequences, for training: a forward pass that keeps each
/// query's log-sum-exp, and the backward pass that rebuilds the probabilities from it instead of storing
/// them (FlashAttention-2's backward, one query row at a time), so memory stays linear in the length.
///
/// Rows are `sequences × length` positions; position `i` of a sequence attends to positions `0...i` of
/// the same sequence. Each row holds every head: queries and keys `[rows, heads, keyDim]`, values and
/// outputs `[rows, heads, valueDim]`.
public struct CausalSelfAttentionShape: Sendable, Equatable {
    public let sequences: Int
    public let length: Int
    public let heads: Int
    public let keyDim: Int
    public let valueDim: Int
    /// Multiplies every score before the softmax.
    public let scale: Float

    public init(sequences: Int, length: Int, heads: Int, keyDim: Int, valueDim: Int, scale: Float) {
        self.sequences = sequences
        self.length = length
        self.heads = heads
        self.keyDim = keyDim
        self.valueDim = valueDim
        self.scale = scale
    }

    public var rows: Int { sequences * length }
}

/// The forward pass: outputs `[rows, heads, valueDim]` and the log-sum-exp of each query's scaled scores
/// `[rows, heads]`.
///
/// Each (sequence, head) runs on one thread, in blocks of `queryBlock` queries: the block's scores against
/// every key up to its last query are one matrix product, the masked softmax runs row by row, and the
/// outputs are a second product.
public func causalSelfAttention(query: [Float], keys: [Float], values: [Float], shape s: CausalSelfAttentionShape)
    -> (output: [Float], logSumExp: [Float]) {
    precondition(query.count == s.rows * s.heads * s.keyDim && keys.count == query.count, "causalSelfAttention queries or keys are not \(s.rows)×\(s.heads)×\(s.keyDim)")
    precondition(values.count == s.rows * s.heads * s.valueDim, "causalSelfAttention values are not \(s.rows)×\(s.heads)×\(s.valueDim)")
    var output = [Float](repeating: 0, count: s.rows * s.heads * s.valueDim)
    var logSumExp = [Float](repeating: 0, count: s.rows * s.heads)
    guard s.rows > 0 && s.heads > 0 else { return (output, logSumExp) }
    query.withUnsafeBufferPointer { q in
    keys.withUnsafeBufferPointer { k in
    values.withUnsafeBufferPointer { v in
    output.withUnsafeMutableBufferPointer { o in
    logSumExp.withUnsafeMutableBufferPointer { lse in
        let (q, k, v, o, lse) = (q.baseAddress!, k.baseAddress!, v.baseAddress!, o.baseAddress!, lse.baseAddress!)
        ThreadPool.parallelFor(s.sequences * s.heads) { units in
            let probabilities = UnsafeMutablePointer<Float>.allocate(capacity: queryBlock * s.length)
            defer { probabilities.deallocate() }
            for unit in units {
                let u = AttentionUnit(shape: s, unit: unit)
                for block in u.blocks {
                    let width = block.upperBound, p = probabilities
                    u.scores(block, q: q, k: k, into: p)
                    for r in 0..<block.count {
                        let i = block.lowerBound + r, row = p + r * width
                        var maximum = -Float.infinity
                        for j in 0...i { maximum = max(maximum, row[j] * s.scale) }
                        let sum = exponentiate(row, count: i + 1, scale: s.scale, shift: maximum)
                        let inverse = 1 / sum
                        for j in 0...i { row[j] *= inverse }
                        for j in (i + 1)..<width { row[j] = 0 }
                        lse[u.headRow(i)] = maximum + log(sum)
                    }
                    // O_block = P · V
                    PackedGemm.multiply(c: o + u.valueOffset(block.lowerBound), stride: u.valueStride,
                                        a: .init(p, transposed: false, stride: width),
                                        b: .init(v + u.valueOffset(0), transposed: true, stride: u.valueStride),
                                        m: block.count, n: s.valueDim, k: width, accumulate: false, threaded: false)
                }
            }
        }
    }}}}}
    return (output, logSumExp)
}

/// The backward pass: gradients of the queries, keys and values from the output gradient.
///
/// Each block of queries rebuilds its probabilities from the log-sum-exp, then takes four products:
/// `dP = dO·Vᵀ`, `dQ = dS·K`, `dK += dSᵀ·Q` and `dV += Pᵀ·dO`, with `dS = P ∘ (dP − D)·scale` and
/// `D_i = dO_i · O_i` (FlashAttention-2's backward).
///
/// - Parameters:
///   - output, logSumExp: what `causalSelfAttention` returned for these inputs.
///   - gradient: `[rows, heads, valueDim]`.
/// - Returns: `dq` and `dk` `[rows, heads, keyDim]`, `dv` `[rows, heads, valueDim]`.
public func causalSelfAttentionBackward(query: [Float], keys: [Float], values: [Float], output: [Float], logSumExp: [Float],
                                        gradient: [Float], shape s: CausalSelfAttentionShape) -> (query: [Float], keys: [Float], values: [Float]) {
    precondition(gradient.count == output.count && output.count == s.rows * s.heads * s.valueDim, "causalSelfAttentionBackward gradient is not \(s.rows)×\(s.heads)×\(s.valueDim)")
    precondition(logSumExp.count == s.rows * s.heads, "causalSelfAttentionBackward needs \(s.rows)×\(s.heads) log-sum-exps")
    var dq = [Float](repeating: 0, count: query.count), dk = dq
    var dv = [Float](repeating: 0, count: values.count)
    guard s.rows > 0 && s.heads > 0 else { return (dq, dk, dv) }
    query.withUnsafeBufferPointer { q in
    keys.withUnsafeBufferPointer { k in
    values.withUnsafeBufferPointer { v in
    output.withUnsafeBufferPointer { o in
    logSumExp.withUnsafeBufferPointer { lse in
    gradient.withUnsafeBufferPointer { dO in
    dq.withUnsafeMutableBufferPointer { dqBuffer in
    dk.withUnsafeMutableBufferPointer { dkBuffer in
    dv.withUnsafeMutableBufferPointer { dvBuffer in
        let (q, k, v, o, lse, dO) = (q.baseAddress!, k.baseAddress!, v.baseAddress!, o.baseAddress!, lse.baseAddress!, dO.baseAddress!)
        let (dQ, dK, dV) = (dqBuffer.baseAddress!, dkBuffer.baseAddress!, dvBuffer.baseAddress!)
        ThreadPool.parallelFor(s.sequences * s.heads) { units in
            let probabilities = UnsafeMutablePointer<Float>.allocate(capacity: queryBlock * s.length)
            let scoreGradients = UnsafeMutablePointer<Float>.allocate(capacity: queryBlock * s.length)
            defer {
                probabilities.deallocate()
                scoreGradients.deallocate()
            }
            for unit in units {
                let u = AttentionUnit(shape: s, unit: unit)
                for block in u.blocks {
                    let width = block.upperBound, p = probabilities, dS = scoreGradients
                    let dOBlock = dO + u.valueOffset(block.lowerBound), qBlock = q + u.keyOffset(block.lowerBound)
                    u.scores(block, q: q, k: k, into: p)
                    // dP = dO_block · Vᵀ, into dS.
                    PackedGemm.multiply(c: dS, stride: width, a: .init(dOBlock, transposed: false, stride: u.valueStride),
                                        b: .init(v + u.valueOffset(0), transposed: false, stride: u.valueStride),
                                        m: block.count, n: width, k: s.valueDim, accumulate: false, threaded: false)
                    for r in 0..<block.count {
                        let i = block.lowerBound + r, pRow = p + r * width, dSRow = dS + r * width
                        _ = exponentiate(pRow, count: i + 1, scale: s.scale, shift: lse[u.headRow(i)])
                        // D_i = dO_i · O_i = Σ_j p_ij dp_ij, the softmax's correction term.
                        let correction = dot(dOBlock + r * u.valueStride, o + u.valueOffset(i), count: s.valueDim)
                        for j in 0...i { dSRow[j] = pRow[j] * (dSRow[j] - correction) * s.scale }
                        for j in (i + 1)..<width {
                            pRow[j] = 0
                            dSRow[j] = 0
                        }
                    }
                    // dQ_block = dS · K
                    PackedGemm.multiply(c: dQ + u.keyOffset(block.lowerBound), stride: u.keyStride,
                                        a: .init(dS, transposed: false, stride: width),
                                        b: .init(k + u.keyOffset(0), transposed: true, stride: u.keyStride),
                                        m: block.count, n: s.keyDim, k: width, accumulate: false, threaded: false)
                    // dK += dSᵀ · Q_block
                    PackedGemm.multiply(c: dK + u.keyOffset(0), stride: u.keyStride,
                                        a: .init(dS, transposed: true, stride: width),
                                        b: .init(qBlock, transposed: true, stride: u.keyStride),
                                        m: width, n: s.keyDim, k: block.count, accumulate: true, threaded: false)
                    // dV += Pᵀ · dO_block
                    PackedGemm.multiply(c: dV + u.valueOffset(0), stride: u.valueStride,
                                        a: .init(p, transposed: true, stride: width),
                                        b: .init(dOBlock, transposed: true, stride: u.valueStride),
                                        m: width, n: s.valueDim, k: block.count, accumulate: true, threaded: false)
                }
            }
        }
    }}}}}}}}}
    return (dq, dk, dv)
}

/// Queries per block: a block's scores against up to `length` keys are one matrix product.
let queryBlock = 64

/// One (sequence, head) of a causal self-attention: where its rows sit, and its query blocks.
struct AttentionUnit {
    let shape: CausalSelfAttentionShape
    let head: Int
    /// The sequence's first row.
    let first: Int

    init(shape: CausalSelfAttentionShape, unit: Int) {
        self.shape = shape
        head = unit % shape.heads
        first = unit / shape.heads * shape.length
    }

    var keyStride: Int { shape.heads * shape.keyDim }
    var valueStride: Int { shape.heads * shape.valueDim }
    /// Position `i`'s query or key for this head.
    func keyOffset(_ i: Int) -> Int { ((first + i) * shape.heads + head) * shape.keyDim }
    /// Position `i`'s value or output for this head.
    func valueOffset(_ i: Int) -> Int { ((first + i) * shape.heads + head) * shape.valueDim }
    /// Position `i`'s log-sum-exp.
    func headRow(_ i: Int) -> Int { (first + i) * shape.heads + head }

    var blocks: [Range<Int>] {
        stride(from: 0, to: shape.length, by: queryBlock).map { $0..<min(shape.length, $0 + queryBlock) }
    }

    /// The unscaled scores `q_i · k_j` of the block's queries against keys `0 ..< block.upperBound`, into
    /// `[block.count, block.upperBound]`.
    func scores(_ block: Range<Int>, q: UnsafePointer<Float>, k: UnsafePointer<Float>, into target: UnsafeMutablePointer<Float>) {
        PackedGemm.multiply(c: target, stride: block.upperBound,
                            a: .init(q + keyOffset(block.lowerBound), transposed: false, stride: keyStride),
                            b: .init(k + keyOffset(0), transposed: false, stride: keyStride),
                            m: block.count, n: block.upperBound, k: shape.keyDim, accumulate: false, threaded: false)
    }
}
