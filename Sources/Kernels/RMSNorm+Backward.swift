/// The gradient of `rmsNorm` (`y = x · r · w` with `r = 1 / sqrt(mean(x²) + ε)`), from its input.
///
/// `dx = r · (dy ⊙ w) − x · r³ / n · Σ (dy ⊙ w ⊙ x)` per row, and `dw += Σ_rows dy ⊙ x · r`.
///
/// - Parameters:
///   - gradient: `dy`, rows `stride` apart like `input`.
///   - input: the `x` the forward pass normalised (before it was overwritten).
///   - inputGradient: receives `dx` in the first `columns` of each row (`stride` apart); other values are kept.
///   - weightGradient: `[columns]`, added to.
public func rmsNormBackward(gradient: [Float], input: [Float], rows: Int, columns: Int, stride: Int? = nil,
                            weight: [Float], epsilon: Float, inputGradient: inout [Float], weightGradient: inout [Float]) {
    let stride = stride ?? columns
    precondition(weight.count == columns && weightGradient.count == columns, "rmsNormBackward weight sizes differ from \(columns)")
    let needed = rows == 0 ? 0 : (rows - 1) * stride + columns
    precondition(gradient.count >= needed && input.count >= needed, "rmsNormBackward rows too short for \(rows)×\(columns) at stride \(stride)")
    if inputGradient.count < needed { inputGradient = [Float](repeating: 0, count: rows * stride) }
    gradient.withUnsafeBufferPointer { dy in
        input.withUnsafeBufferPointer { x in
            weight.withUnsafeBufferPointer { w in
                inputGradient.withUnsafeMutableBufferPointer { dx in
                    weightGradient.withUnsafeMutableBufferPointer { dw in
                        for r in 0..<rows {
                            let xr = x.baseAddress! + r * stride, dyr = dy.baseAddress! + r * stride, dxr = dx.baseAddress! + r * stride
                            let meanSquare = dot(xr, xr, count: columns) / Float(columns)
                            let inverse = 1 / (meanSquare + epsilon).squareRoot()
                            var projection: Float = 0
                            for c in 0..<columns {
                                projection += dyr[c] * w[c] * xr[c]
                                dw[c] += dyr[c] * xr[c] * inverse
                            }
                            let correction = projection * inverse * inverse * inverse / Float(columns)
                            for c in 0..<columns { dxr[c] = inverse * dyr[c] * w[c] - xr[c] * correction }
                        }
                    }
                }
            }
        }
    }
}
