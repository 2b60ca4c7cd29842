/// `output[t, r] = Σ_c input[t, c] · weight[r, c]` — a linear layer without bias.
///
/// Four or more tokens (prefill) take `BlockedMatMul`; fewer (decoding), or any number when `streaming`,
/// take the row-streaming path below. Rows are split across `ThreadPool.threads`; each row is read in
/// place and, for BF16 and FP8 (blocks a multiple of 64 wide), widened in registers
/// (`WeightMatrix.dot(row:_:scratch:)`). On the row-streaming path each token's products are computed
/// exactly as they would be for that token alone, so a batch of decoding sequences gets the bits each
/// would get by itself.
///
/// - Parameters:
///   - output: `[tokens, weight.rows]`, overwritten.
///   - input: `[tokens, weight.columns]`.
public func matmul(output: inout [Float], input: [Float], tokens: Int, weight: WeightMatrix, streaming: Bool = false) {
    precondition(input.count >= tokens * weight.columns, "matmul input has \(input.count) values, needs \(tokens)×\(weight.columns)")
    if output.count != tokens * weight.rows {
        output = [Float](repeating: 0, count: tokens * weight.rows)
    }
    let rows = weight.rows, columns = weight.columns
    if tokens >= BlockedMatMul.tokenStep && !streaming {
        input.withUnsafeBufferPointer { x in
            output.withUnsafeMutableBufferPointer { y in
                BlockedMatMul.multiply(y: y.baseAddress!, x: x.baseAddress!, tokens: tokens, weight: weight)
            }
        }
        return
    }
    input.withUnsafeBufferPointer { xBuffer in
        output.withUnsafeMutableBufferPointer { yBuffer in
            let x = xBuffer.baseAddress!, y = yBuffer.baseAddress!
            let packed = (0..<tokens).map { PackedVector(x + $0 * columns, count: columns, for: weight) }
            defer { packed.forEach { $0.deallocate() } }
            // Enough rows per thread to amortise the hand-off (~64k multiply-adds).
            let grain = max(1, 65_536 / max(columns * tokens, 1))
            ThreadPool.parallelFor(rows, grain: grain) { range in
                let scratch = UnsafeMutablePointer<Float>.allocate(capacity: columns)
                defer { scratch.deallocate() }
                weight.dot(rows: range, packed, into: y + range.lowerBound, stride: rows, scratch: scratch)
            }
        }
    }
}

/// Fewest tokens for which `matmul` takes the blocked (prefill) path unless told to stream rows.
public var blockedMatmulTokens: Int { BlockedMatMul.tokenStep }

/// Returns `input · weightᵀ` as a new `[tokens, weight.rows]` array.
public func matmul(_ input: [Float], tokens: Int, weight: WeightMatrix, streaming: Bool = false) -> [Float] {
    var output = [Float](repeating: 0, count: tokens * weight.rows)
    matmul(output: &output, input: input, tokens: tokens, weight: weight, streaming: streaming)
    return output
}
