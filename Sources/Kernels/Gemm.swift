/// Dense FP32 matrix products for training, in any transposition: `c (+)= op(a) · op(b)`.
///
/// A training step needs three products per linear layer — `y = x·Wᵀ`, `dx = dy·W` and `dW = dyᵀ·x` —
/// each with its operands stored the other way round; `PackedGemm` reads either layout while it packs.
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
        // Every value is written below; the product's first block overwrites.
        c = k > 0 ? [Float](unsafeUninitializedCapacity: m * n) { _, count in count = m * n } : [Float](repeating: 0, count: m * n)
    }
    guard m > 0 && n > 0 else { return }
    guard k > 0 else {
        if !accumulate { for i in c.indices { c[i] = 0 } }
        return
    }
    a.withUnsafeBufferPointer { aBuffer in
        b.withUnsafeBufferPointer { bBuffer in
            c.withUnsafeMutableBufferPointer { cBuffer in
                PackedGemm.multiply(c: cBuffer.baseAddress!, a: aBuffer.baseAddress!, b: bBuffer.baseAddress!, m: m, n: n, k: k,
                     aTransposed: aTransposed, bTransposed: bTransposed, accumulate: accumulate)
            }
        }
    }
}

/// Returns `op(a) · op(b)` as a new `[m, n]` array (see `gemm(_:_:_:m:n:k:aTransposed:bTransposed:accumulate:)`).
public func gemm(_ a: [Float], _ b: [Float], m: Int, n: Int, k: Int, aTransposed: Bool = false, bTransposed: Bool = false) -> [Float] {
    var c: [Float] = []
    gemm(&c, a, b, m: m, n: n, k: k, aTransposed: aTransposed, bTransposed: bTransposed)
    return c
}
