/// `output[t, r] = Σ_c input[t, c] · weight[r, c]` — a linear layer without bias.
///
/// Four or more tokens (prefill) take `BlockedMatMul`; fewer (decoding) take the row-streaming path below.
/// Rows are split across `ThreadPool.threads`. F32, BF16 and FP8 (blocks a multiple of 64 wide) rows are
/// read in place and widened in registers; other layouts widen each row once into a per-thread buffer
/// that serves every token.
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
    if tokens >= BlockedMatMul.tokenStep {
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
            // Packed formats read the activations permuted to their lane order (once per product).
            let perLane: Int
            switch weight.format {
            case .bf16: perLane = 2
            case let .fp8E4M3(_, blockColumns) where blockColumns % 64 == 0: perLane = 4
            default: perLane = 0
            }
            let shift: Float = perLane == 4 ? fp8ActivationShift : 1
            let packed = perLane == 0 ? [] : (0..<tokens).map { PackedVector(x + $0 * columns, count: columns, perLane: perLane, scale: shift) }
            defer { packed.forEach { $0.deallocate() } }
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
                        for t in 0..<tokens { y[t * rows + r] = dotBF16(w + r * columns, packed[t]) }
                    }
                case let .fp8E4M3(blockRows, blockColumns) where perLane == 4:
                    let w = weight.data.assumingMemoryBound(to: UInt8.self)
                    let gridColumns = (columns + blockColumns - 1) / blockColumns
                    for r in range {
                        let scales = weight.scales! + (r / blockRows) * gridColumns
                        for t in 0..<tokens {
                            y[t * rows + r] = dotFP8(w + r * columns, scales: scales, blockColumns: blockColumns, packed[t])
                        }
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
