/// Dense FP32 matrix products for training, in any transposition: `c (+)= op(a) · op(b)`.
///
/// A training step needs three products per linear layer — `y = x·Wᵀ`, `dx = dy·W` and `dW = dyᵀ·x` —
/// and every one is turned into the `x · wᵀ` form that `BlockedMatMul` multiplies (both operands read
/// along their rows), transposing an operand into scratch when it is not already laid out that way. The
/// transposes cost `O(m·k + n·k)` against the product's `O(m·n·k)`.
///
/// - Parameters:
///   - c: `[m, n]`; overwritten, or added to when `accumulate`.
///   - a: `op(a)` is `[m, k]`: `a` is stored `[m, k]`, or `[k, m]` when `aTransposed`.
///   - b: `op(b)` is `[k, n]`: `b` is stored `[k, n]`, or `[n, k]` when `bTransposed`.
public func gemm(_ c: inout [Float], _ a: [Float], _ b: [Float], m: Int, n: Int, k: Int,
                 aTransposed: Bool = false, bTransposed: Bool = false, accumulate: Bool = false) {
    precondition(m >= 0 && n >= 0 && k >= 0, "gemm sizes must not be negative: \(m)×\(n)×\(k)")
    precondition(a.count >= m * k && b.count >= k * n, "gemm operands have \(a.count) and \(b.count) values, need \(m)×\(k) and \(k)×\(n)")
    if c.count != m * n {
        precondition(!accumulate, "gemm accumulates into \(c.count) values, needs \(m)×\(n)")
        c = [Float](repeating: 0, count: m * n)
    }
    guard m > 0 && n > 0 else { return }
    guard k > 0 else {
        if !accumulate { for i in c.indices { c[i] = 0 } }
        return
    }
    a.withUnsafeBufferPointer { aBuffer in
        b.withUnsafeBufferPointer { bBuffer in
            c.withUnsafeMutableBufferPointer { cBuffer in
                gemm(c: cBuffer.baseAddress!, a: aBuffer.baseAddress!, b: bBuffer.baseAddress!, m: m, n: n, k: k,
                     aTransposed: aTransposed, bTransposed: bTransposed, accumulate: accumulate)
            }
        }
    }
}

/// Returns `op(a) · op(b)` as a new `[m, n]` array (see `gemm(_:_:_:m:n:k:aTransposed:bTransposed:accumulate:)`).
public func gemm(_ a: [Float], _ b: [Float], m: Int, n: Int, k: Int, aTransposed: Bool = false, bTransposed: Bool = false) -> [Float] {
    var c = [Float](repeating: 0, count: m * n)
    gemm(&c, a, b, m: m, n: n, k: k, aTransposed: aTransposed, bTransposed: bTransposed)
    return c
}

func gemm(c: UnsafeMutablePointer<Float>, a: UnsafePointer<Float>, b: UnsafePointer<Float>, m: Int, n: Int, k: Int,
          aTransposed: Bool, bTransposed: Bool, accumulate: Bool) {
    // x: [m, k] rows; w: [n, k] rows.
    let xScratch: UnsafeMutablePointer<Float>? = aTransposed ? .allocate(capacity: m * k) : nil
    let wScratch: UnsafeMutablePointer<Float>? = bTransposed ? nil : .allocate(capacity: n * k)
    defer {
        xScratch?.deallocate()
        wScratch?.deallocate()
    }
    if let xScratch { transpose(a, rows: k, columns: m, into: xScratch) }
    if let wScratch { transpose(b, rows: k, columns: n, into: wScratch) }
    let weight = WeightMatrix(rows: n, columns: k, format: .f32, data: UnsafeRawPointer(wScratch ?? UnsafeMutablePointer(mutating: b)))
    let x = UnsafePointer(xScratch) ?? a
    if !accumulate {
        BlockedMatMul.multiply(y: c, x: x, tokens: m, weight: weight)
        return
    }
    let product = UnsafeMutablePointer<Float>.allocate(capacity: m * n)
    defer { product.deallocate() }
    BlockedMatMul.multiply(y: product, x: x, tokens: m, weight: weight)
    ThreadPool.parallelFor(m * n, grain: 1 << 15) { range in
        for i in range { c[i] += product[i] }
    }
}

/// Writes the `[columns, rows]` transpose of the row-major `[rows, columns]` matrix at `source`, in
/// tiles of 32 × 32 so both sides stay in cache.
public func transpose(_ source: UnsafePointer<Float>, rows: Int, columns: Int, into target: UnsafeMutablePointer<Float>) {
    let tile = 32
    let rowTiles = (rows + tile - 1) / tile
    ThreadPool.parallelFor(rowTiles, grain: max(1, 16_384 / max(columns * tile, 1))) { range in
        for rt in range {
            let r0 = rt * tile, r1 = min(rows, r0 + tile)
            var c0 = 0
            while c0 < columns {
                let c1 = min(columns, c0 + tile)
                for r in r0..<r1 {
                    for c in c0..<c1 { target[c * rows + r] = source[r * columns + c] }
                }
                c0 = c1
            }
        }
    }
}

/// The `[columns, rows]` transpose of a row-major `[rows, columns]` array.
public func transposed(_ values: [Float], rows: Int, columns: Int) -> [Float] {
    precondition(values.count == rows * columns, "transpose of \(values.count) values as \(rows)×\(columns)")
    var result = [Float](repeating: 0, count: values.count)
    guard !values.isEmpty else { return result }
    values.withUnsafeBufferPointer { s in
        result.withUnsafeMutableBufferPointer { transpose(s.baseAddress!, rows: rows, columns: columns, into: $0.baseAddress!) }
    }
    return result
}
