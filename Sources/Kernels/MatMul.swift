/// `output[t, r] = Σ_c input[t, c] · weight[r, c]` — a linear layer without bias.
///
/// Four or more tokens (prefill) take `BlockedMatMul`; fewer (decoding) take the row-streaming path below,
/// unless `path` says which. Rows are split across `ThreadPool.threads`; each row is read in place and, for
/// BF16 and FP8 (blocks a multiple of 64 wide), widened in registers (`WeightMatrix.dot(row:_:scratch:)`).
///
/// Either path computes each token's products exactly as it would for that token alone, wherever the token
/// sits among the others (the blocked one pads the tokens to whole register tiles), so a batch of
/// sequences gets the bits each would get by itself on the same path (not under the `OpenBLAS` trait,
/// whose `sgemm` splits the work by shape: `blockedMatmulIsTokenInvariant`).
///
/// - Parameters:
///   - output: `[tokens, weight.rows]`, overwritten.
///   - input: `[tokens, weight.columns]`.
public func matmul(output: inout [Float], input: [Float], tokens: Int, weight: WeightMatrix, path: ProductPath = .automatic) {
    precondition(input.count >= tokens * weight.columns, "matmul input has \(input.count) values, needs \(tokens)×\(weight.columns)")
    if output.count != tokens * weight.rows {
        output = [Float](repeating: 0, count: tokens * weight.rows)
    }
    let rows = weight.rows, columns = weight.columns
    if path.isBlocked(tokens: tokens) {
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

/// Which kernel a matrix product takes.
public enum ProductPath: Sendable, Equatable {
    /// The blocked kernel from `blockedMatmulTokens` tokens, the row-streaming one below.
    case automatic
    /// Each weight row streamed past every token (decoding).
    case streaming
    /// Panels of widened rows times register tiles of tokens (prefill), at any token count.
    case blocked

    func isBlocked(tokens: Int) -> Bool {
        switch self {
        case .automatic: tokens >= BlockedMatMul.tokenStep
        case .streaming: false
        case .blocked: true
        }
    }
}

/// Fewest tokens for which `matmul` takes the blocked (prefill) path on its own.
public var blockedMatmulTokens: Int { BlockedMatMul.tokenStep }

/// Whether the blocked path's result for a token is the same wherever the token sits in the call (false
/// under the `OpenBLAS` trait).
public var blockedMatmulIsTokenInvariant: Bool {
    #if OPENBLAS
    false
    #else
    true
    #endif
}

/// Returns `input · weightᵀ` as a new `[tokens, weight.rows]` array.
public func matmul(_ input: [Float], tokens: Int, weight: WeightMatrix, path: ProductPath = .automatic) -> [Float] {
    var output = [Float](repeating: 0, count: tokens * weight.rows)
    matmul(output: &output, input: input, tokens: tokens, weight: weight, path: path)
    return output
}
