import Foundation

/// Which keys each query row may see: row `r` of a run is query token `r / rowsPerToken`, whose first
/// token sits at `firstPosition`, and it sees keys `0...firstPosition + r / rowsPerToken`.
struct CausalRows {
    let firstPosition: Int
    let rowsPerToken: Int
    /// Index of row 0 here in the whole run (a chunk of rows starts part-way through).
    var firstRow = 0

    @inline(__always)
    func visible(_ row: Int) -> Int { firstPosition + (firstRow + row) / rowsPerToken + 1 }
}

/// Scaled-dot-product attention of `rows` query rows over rows of a key matrix and a value matrix:
/// `output[r] = Σ_{p < visible(r)} softmax_p(scale · q[r] · k[p]) · v[p]`. It is shared by both MLA forms.
///
/// One pass over the keys in blocks small enough to stay in cache: each block's scores come from the
/// register-blocked product kernel of `BlockedMatMul` (2 keys × 4 query rows per step), the running
/// maximum and sum of each row are updated (online softmax), and the block's values are added in with
/// weights in registers (4 rows × 16 values per step). Query rows are split into chunks; a single chunk
/// (decoding) splits its keys instead, and the partial results are merged by their maxima.
///
/// - Parameters:
///   - queries: `[rows, keyDim]`.
///   - keys: rows of `keyDim` values (at least `causal.visible(rows - 1)` of them), contiguous or paged.
///   - values: rows whose first `valueDim` values are used; nil: the keys' rows (MLA's latent form).
///   - output: `rows` rows of `outputStride` values; the first `valueDim` of each are overwritten.
func attend(queries: UnsafePointer<Float>, rows: Int, keys: LatentRows, values: LatentRows?, valueDim: Int,
            causal: CausalRows, scale: Float, output: UnsafeMutablePointer<Float>, outputStride: Int) {
    guard rows > 0 else { return }
    let keyDim = keys.width
    // Accumulators of a chunk stay within ~128 KB.
    var chunkRows = max(4, min(64, 32_768 / max(valueDim, 1)))
    let keyCount = causal.visible(rows - 1)
    if rows <= chunkRows && keyCount <= AttentionBlock.headSplitKeys {
        // Decoding over a short cache: the rows are shared among the threads (every thread reads the few
        // keys). Chunks start at multiples of 4 rows, so each row is computed the same way at any
        // thread count.
        let perThread = (rows + ThreadPool.threads - 1) / ThreadPool.threads
        chunkRows = max(4, (perThread + 3) / 4 * 4)
    }
    let chunks = (rows + chunkRows - 1) / chunkRows
    // One chunk of rows (decoding) splits its keys into a multiple of 4 equal parts of at most `partKeys`,
    // so they share out evenly among 1, 2 or 4 threads; the split does not depend on the thread count, so
    // neither does the result.
    let parts = chunks == 1 && keyCount > AttentionBlock.headSplitKeys
        ? (keyCount + 4 * AttentionBlock.partKeys - 1) / (4 * AttentionBlock.partKeys) * 4 : 1
    if parts == 1 {
        ThreadPool.parallelFor(chunks) { range in
            let block = AttentionBlock(rows: chunkRows, valueDim: valueDim, keys: keys, values: values)
            defer { block.deallocate() }
            for index in range {
                // Causal chunks see more keys the later they start: taken in the order first, last, second,
                // second to last, …, so contiguous shares of the indices carry even shares of the work.
                let chunk = index % 2 == 0 ? index / 2 : chunks - 1 - index / 2
                let first = chunk * chunkRows, count = min(chunkRows, rows - first)
                let rowCausal = CausalRows(firstPosition: causal.firstPosition, rowsPerToken: causal.rowsPerToken, firstRow: first)
                block.run(queries: queries + first * keyDim, rows: count, keys: keys, keyRange: 0..<rowCausal.visible(count - 1),
                          values: values, causal: rowCausal, scale: scale)
                for r in 0..<count { block.finish(row: r, into: output + (first + r) * outputStride) }
            }
        }
        return
    }
    let partials = (0..<parts).map { _ in AttentionBlock(rows: rows, valueDim: valueDim, keys: keys, values: values) }
    defer { partials.forEach { $0.deallocate() } }
    ThreadPool.parallelFor(parts) { range in
        for part in range {
            partials[part].run(queries: queries, rows: rows, keys: keys,
                               keyRange: AttentionBlock.partBoundary(part, of: parts, keys: keyCount)..<AttentionBlock.partBoundary(part + 1, of: parts, keys: keyCount),
                               values: values, causal: causal, scale: scale)
        }
    }
    for r in 0..<rows { AttentionBlock.merge(partials, row: r, into: output + r * outputStride) }
}

/// One thread's running state of `attend` for a set of query rows: per row the largest score so far, the
/// sum of exponentials relative to it, and the weighted values relative to it; plus the scores of the
/// current block of keys, and room to widen the block's rows when they are stored as INT8.
private struct AttentionBlock {
    /// Keys per block: 128 latent rows (~295 KB) stay in a core's L2 between scoring and summing.
    static let keys = 128
    /// Most keys per part when one chunk of rows is split across threads (4160 keys in 5 parts had left
    /// one of two threads idle for a sixth of the time; 16 parts of 256 cost more to merge than they saved).
    static let partKeys = 1024
    /// Most keys over which one token's rows are split among the threads instead of its keys.
    static let headSplitKeys = 1024

    /// Where part `part` of `parts` starts among `keys` keys: an even share, rounded down to a whole block
    /// so no block straddles a page of the cache.
    static func partBoundary(_ part: Int, of parts: Int, keys: Int) -> Int {
        part == parts ? keys : keys * part / parts / Self.keys * Self.keys
    }

    let valueDim: Int
    let maxima: UnsafeMutablePointer<Float>, sums: UnsafeMutablePointer<Float>
    let accumulated: UnsafeMutablePointer<Float>, scores: UnsafeMutablePointer<Float>
    let keyScratch: UnsafeMutablePointer<Float>?, valueScratch: UnsafeMutablePointer<Float>?

    init(rows: Int, valueDim: Int, keys: LatentRows, values: LatentRows?) {
        self.valueDim = valueDim
        maxima = .allocate(capacity: rows)
        sums = .allocate(capacity: rows)
        accumulated = .allocate(capacity: rows * valueDim)
        scores = .allocate(capacity: rows * Self.keys)
        keyScratch = keys.widens ? .allocate(capacity: Self.keys * keys.width) : nil
        valueScratch = values.map { $0.widens ? .allocate(capacity: Self.keys * $0.width) : nil } ?? nil
    }

    func deallocate() {
        [maxima, sums, accumulated, scores].forEach { $0.deallocate() }
        keyScratch?.deallocate()
        valueScratch?.deallocate()
    }

    /// Attends `rows` query rows over the keys in `keyRange` (each row only up to its causal limit).
    func run(queries: UnsafePointer<Float>, rows: Int, keys: LatentRows, keyRange: Range<Int>,
             values: LatentRows?, causal: CausalRows, scale: Float) {
        let keyDim = keys.width, valueStride = values?.width ?? keyDim
        maxima.initialize(repeating: -.infinity, count: rows)
        sums.initialize(repeating: 0, count: rows)
        accumulated.initialize(repeating: 0, count: rows * valueDim)
        var start = keyRange.lowerBound
        while start < keyRange.upperBound {
            // A block never crosses a page of the cache.
            let count = min(Self.keys, keyRange.upperBound - start, keys.rowsInPage(from: start), values?.rowsInPage(from: start) ?? .max)
            // Scores of the block: scores[r, p - start].
            let keyBlock = keys.block(from: start, count: count, scratch: keyScratch)
            let valueBlock = values?.block(from: start, count: count, scratch: valueScratch) ?? keyBlock
            var p = 0
            while p + 2 <= count {
                BlockedMatMul.microKernel(keyBlock + p * keyDim, columns: keyDim, xs: queries, tokens: rows, y: scores, rows: count, row: p)
                p += 2
            }
            if p < count {
                for r in 0..<rows { scores[r * count + p] = dot(keyBlock + p * keyDim, queries + r * keyDim, count: keyDim) }
            }
            // Online softmax: weights relative to each row's new maximum; earlier sums rescaled.
            for r in 0..<rows {
                let row = scores + r * count
                let seen = min(count, max(0, causal.visible(r) - start))
                guard seen > 0 else {
                    row.initialize(repeating: 0, count: count)
                    continue
                }
                var blockMaximum = -Float.infinity
                for i in 0..<seen { blockMaximum = max(blockMaximum, row[i] * scale) }
                let maximum = max(maxima[r], blockMaximum)
                let rescale = exp(maxima[r] - maximum)
                if rescale != 1 {
                    let target = accumulated + r * valueDim
                    for j in 0..<valueDim { target[j] *= rescale }
                }
                sums[r] = sums[r] * rescale + exponentiate(row, count: seen, scale: scale, shift: maximum)
                maxima[r] = maximum
                (row + seen).initialize(repeating: 0, count: count - seen)
            }
            var r = 0
            while r < rows {
                let group = min(4, rows - r)
                let end = min(count, max(0, causal.visible(r + group - 1) - start))
                if end > 0 {
                    accumulate(weights: scores + r * count, keyCount: count, rows: group, keys: 0..<end,
                               values: valueBlock, valueStride: valueStride, columns: 0..<valueDim,
                               output: accumulated + r * valueDim, outputStride: valueDim)
                }
                r += group
            }
            start += count
        }
    }

    /// Row `row`'s result, normalised.
    func finish(row: Int, into target: UnsafeMutablePointer<Float>) {
        let inverse = 1 / sums[row], source = accumulated + row * valueDim
        for j in 0..<valueDim { target[j] = source[j] * inverse }
    }

    /// Row `row`'s result from blocks that each saw a share of the keys.
    static func merge(_ parts: [AttentionBlock], row: Int, into target: UnsafeMutablePointer<Float>) {
        let maximum = parts.reduce(-Float.infinity) { max($0, $1.maxima[row]) }
        var total: Float = 0
        let valueDim = parts[0].valueDim
        target.initialize(repeating: 0, count: valueDim)
        for part in parts where part.sums[row] > 0 {
            let weight = exp(part.maxima[row] - maximum)
            total += part.sums[row] * weight
            let source = part.accumulated + row * valueDim
            for j in 0..<valueDim { target[j] += source[j] * weight }
        }
        let inverse = 1 / total
        for j in 0..<valueDim { target[j] *= inverse }
    }
}

/// Up to 4 output rows += their weights × value rows `keys`, over `columns`.
@inline(__always)
private func accumulate(weights: UnsafePointer<Float>, keyCount: Int, rows: Int, keys: Range<Int>,
                        values: UnsafePointer<Float>, valueStride: Int, columns: Range<Int>,
                        output: UnsafeMutablePointer<Float>, outputStride: Int) {
    var j = columns.lowerBound
    if rows == 4 {
        let w0 = weights, w1 = weights + keyCount, w2 = weights + 2 * keyCount, w3 = weights + 3 * keyCount
        while j + 16 <= columns.upperBound {
            let o0 = UnsafeMutableRawPointer(output + j), o1 = UnsafeMutableRawPointer(output + outputStride + j)
            let o2 = UnsafeMutableRawPointer(output + 2 * outputStride + j), o3 = UnsafeMutableRawPointer(output + 3 * outputStride + j)
            var a0 = loadFloats(o0), b0 = loadFloats(o0, byteOffset: 32)
            var a1 = loadFloats(o1), b1 = loadFloats(o1, byteOffset: 32)
            var a2 = loadFloats(o2), b2 = loadFloats(o2, byteOffset: 32)
            var a3 = loadFloats(o3), b3 = loadFloats(o3, byteOffset: 32)
            for p in keys {
                let v = UnsafeRawPointer(values + p * valueStride + j)
                let low = loadFloats(v), high = loadFloats(v, byteOffset: 32)
                let s0 = SIMD8<Float>(repeating: w0[p]), s1 = SIMD8<Float>(repeating: w1[p])
                multiplyAdd(&a0, low, s0); multiplyAdd(&b0, high, s0)
                multiplyAdd(&a1, low, s1); multiplyAdd(&b1, high, s1)
                let s2 = SIMD8<Float>(repeating: w2[p]), s3 = SIMD8<Float>(repeating: w3[p])
                multiplyAdd(&a2, low, s2); multiplyAdd(&b2, high, s2)
                multiplyAdd(&a3, low, s3); multiplyAdd(&b3, high, s3)
            }
            o0.storeBytes(of: a0, as: SIMD8<Float>.self); o0.storeBytes(of: b0, toByteOffset: 32, as: SIMD8<Float>.self)
            o1.storeBytes(of: a1, as: SIMD8<Float>.self); o1.storeBytes(of: b1, toByteOffset: 32, as: SIMD8<Float>.self)
            o2.storeBytes(of: a2, as: SIMD8<Float>.self); o2.storeBytes(of: b2, toByteOffset: 32, as: SIMD8<Float>.self)
            o3.storeBytes(of: a3, as: SIMD8<Float>.self); o3.storeBytes(of: b3, toByteOffset: 32, as: SIMD8<Float>.self)
            j += 16
        }
    }
    // Fewer than 4 rows, or the columns after the last 16: one row and one column at a time.
    guard j < columns.upperBound else { return }
    for i in 0..<rows {
        let w = weights + i * keyCount, target = output + i * outputStride
        for p in keys {
            let weight = w[p], v = values + p * valueStride
            for c in j..<columns.upperBound { target[c] += weight * v[c] }
        }
    }
}

/// Causal multi-head scaled-dot-product attention over contiguous per-head keys and values.
///
/// - Parameters:
///   - query: `[heads, queryTokens, keyDim]`.
///   - keys: `[heads, keyTokens, keyDim]`.
///   - values: `[heads, keyTokens, valueDim]`.
///   - firstQueryPosition: absolute position of query 0; query `i` sees keys `0...firstQueryPosition + i`.
///   - scale: multiplies every score before the softmax.
/// - Returns: `[queryTokens, heads, valueDim]`.
public func causalAttention(
    query: [Float], keys: [Float], values: [Float],
    heads: Int, queryTokens: Int, keyTokens: Int, keyDim: Int, valueDim: Int,
    firstQueryPosition: Int, scale: Float
) -> [Float] {
    precondition(query.count == heads * queryTokens * keyDim, "attention query is \(query.count), expected \(heads)×\(queryTokens)×\(keyDim)")
    precondition(keys.count == heads * keyTokens * keyDim, "attention keys are \(keys.count), expected \(heads)×\(keyTokens)×\(keyDim)")
    precondition(values.count == heads * keyTokens * valueDim, "attention values are \(values.count), expected \(heads)×\(keyTokens)×\(valueDim)")
    precondition(firstQueryPosition + queryTokens <= keyTokens, "attention queries reach past the keys")
    var output = [Float](repeating: 0, count: queryTokens * heads * valueDim)
    query.withUnsafeBufferPointer { q in
        keys.withUnsafeBufferPointer { k in
            values.withUnsafeBufferPointer { v in
                output.withUnsafeMutableBufferPointer { o in
                    for h in 0..<heads {
                        attend(queries: q.baseAddress! + h * queryTokens * keyDim, rows: queryTokens,
                               keys: LatentRows(contiguous: k.baseAddress! + h * keyTokens * keyDim, width: keyDim),
                               values: LatentRows(contiguous: v.baseAddress! + h * keyTokens * valueDim, width: valueDim), valueDim: valueDim,
                               causal: CausalRows(firstPosition: firstQueryPosition, rowsPerToken: 1), scale: scale,
                               output: o.baseAddress! + h * valueDim, outputStride: heads * valueDim)
                    }
                }
            }
        }
    }
    return output
}
