/// `output[t, r] = Σ_c input[t, c] · weight[r, c]` — a linear layer without bias.
///
/// - Parameters:
///   - output: `[tokens, weight.rows]`, overwritten.
///   - input: `[tokens, weight.columns]`.
///   - tokens: number of input rows.
///   - weight: `[rows, columns]` in any format; each row is widened to `Float` once and
///     reused for every token, so formats are never widened in memory as a whole.
public func matmul(output: inout [Float], input: [Float], tokens: Int, weight: WeightMatrix) {
    precondition(input.count >= tokens * weight.columns, "matmul input has \(input.count) values, needs \(tokens)×\(weight.columns)")
    if output.count != tokens * weight.rows {
        output = [Float](repeating: 0, count: tokens * weight.rows)
    }
    let rows = weight.rows, columns = weight.columns
    input.withUnsafeBufferPointer { x in
        output.withUnsafeMutableBufferPointer { y in
            if weight.format == .f32 {
                let w = weight.data.assumingMemoryBound(to: Float.self)
                for r in 0..<rows {
                    for t in 0..<tokens {
                        y[t * rows + r] = dot(w + r * columns, x.baseAddress! + t * columns, count: columns)
                    }
                }
                return
            }
            let row = UnsafeMutablePointer<Float>.allocate(capacity: columns)
            defer { row.deallocate() }
            for r in 0..<rows {
                weight.decodeRow(r, into: row)
                for t in 0..<tokens {
                    y[t * rows + r] = dot(row, x.baseAddress! + t * columns, count: columns)
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
