/// Root-mean-square normalisation of `columns` values in each of `rows` rows, in place:
/// `x ← x / sqrt(mean(x²) + epsilon) · weight`, computed in `Float` (as the reference does).
///
/// - Parameters:
///   - values: rows laid out `stride` apart; only the first `columns` of each row change.
///   - weight: `[columns]`.
public func rmsNorm(_ values: inout [Float], rows: Int, columns: Int, stride: Int? = nil, weight: [Float], epsilon: Float) {
    let stride = stride ?? columns
    precondition(weight.count == columns, "rmsNorm weight has \(weight.count) values, rows have \(columns)")
    precondition(rows == 0 || values.count >= (rows - 1) * stride + columns, "rmsNorm values too short for \(rows)×\(columns) at stride \(stride)")
    values.withUnsafeMutableBufferPointer { x in
        weight.withUnsafeBufferPointer { w in
            for r in 0..<rows {
                let row = x.baseAddress! + r * stride
                let meanSquare = dot(row, row, count: columns) / Float(columns)
                let inverse = 1 / (meanSquare + epsilon).squareRoot()
                for c in 0..<columns { row[c] = row[c] * inverse * w[c] }
            }
        }
    }
}
