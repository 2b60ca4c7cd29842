/// `output[t, r] = Σ_c input[t, c] · weight[r, c]` — a linear layer without bias.
///
/// Rows are split across `ThreadPool.threads`. F32 and BF16 rows are read in place (BF16 widened in
/// registers); other formats widen each row once into a per-thread buffer that serves every token.
///
/// - Parameters:
///   - output: `[tokens, weight.rows]`, overwritten.
///   - input: `[tokens, weight.columns]`.
public func matmul(output: inout [Float], input: [Float], tokens: Int, weight: WeightMatrix) {
    precondition(input.count >= tokens * weight.columns, "matmul input has \(input.count) values, needs \(tokens)×\(weight.columns)")
    if output.count != tokens * weight.rows {
        output = [Float](repeating: 0, count: tokens * weight.rows)
    }
    let rows = weight.rows, columns = weight.columns
    input.withUnsafeBufferPointer { xBuffer in
        output.withUnsafeMutableBufferPointer { yBuffer in
            let x = xBuffer.baseAddress!, y = yBuffer.baseAddress!
            // Enough rows per thread to amortise the hand-off (~64k multiply-adds).
            let grain = max(1, 65_536 / max(columns * tokens, 1))
            ThreadPool.parallelFor(rows, grain: grain) { range in
                switch weight.format {
                case .f32:
                    let w = weight.data.assumingMemoryBound(to: Float.self)
                    for r in range {
                        for t in 0..<tokens { y[t * rows + r] = dot(w + r * columns, x + t * columns, count: columns) }
                    }
                case .bf16:
                    let w = weight.data.assumingMemoryBound(to: UInt16.self)
                    for r in range {
                        for t in 0..<tokens { y[t * rows + r] = dotBF16(w + r * columns, x + t * columns, count: columns) }
                    }
                default:
                    let row = UnsafeMutablePointer<Float>.allocate(capacity: columns)
                    defer { row.deallocate() }
                    for r in range {
                        weight.decodeRow(r, into: row)
                        for t in 0..<tokens { y[t * rows + r] = dot(row, x + t * columns, count: columns) }
                    }
                }
            }
        }
    }
}

/// Returns `input · weightᵀ` as a new `[tokens, weight.rows]` array.
public func matmul(_ input: [Float], tokens: Int, weight: WeightMatrix) -> [Float] {
    var output = [Float](repeating: 0, count: tokens * weight.rows)
    matmul(output: &output, input: input, tokens: tokens, weight: weight)
    return output
}
