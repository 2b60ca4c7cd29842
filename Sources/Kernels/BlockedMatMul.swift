/// The matrix product for several tokens at once (prefill): weights are widened a panel of rows at a
/// time into `Float`, once per product, and a register-blocked micro-kernel multiplies the panel by
/// every token — each widened weight is reused across tokens from registers and L1.
///
/// The columns of both operands are taken in the packed format's lane order (the order a row widens
/// in, see `PackedVector`); a dot product does not depend on the order of its terms.
enum BlockedMatMul {
    /// Rows widened together; each thread owns a panel of this many rows × columns.
    static let panelRows = 8
    /// Tokens per micro-kernel step, with 2 rows: 8 accumulators of 8 lanes.
    static let tokenStep = 4

    /// `y[t, r] = x[t, :] · w[r, :]` for `tokens ≥ 1`, any format.
    ///
    /// The tokens are padded with zeros to whole tiles of `tokenStep`, so every token goes through the same
    /// micro-kernel steps wherever it sits in the call: a token's result does not depend on the others.
    static func multiply(y: UnsafeMutablePointer<Float>, x: UnsafePointer<Float>, tokens: Int, weight: WeightMatrix) {
        let columns = weight.columns, rows = weight.rows
        let perLane = lanePacking(weight.format)
        #if OPENBLAS
        let padded = tokens
        #else
        let padded = (tokens + tokenStep - 1) / tokenStep * tokenStep
        #endif
        // Activations in lane order (tail columns stay in place), one copy per product; formats widened in
        // column order use the activations as they are unless padding needs a copy.
        let staged: UnsafeMutablePointer<Float>? = perLane == 1 && padded == tokens ? nil : .allocate(capacity: padded * columns)
        defer { staged?.deallocate() }
        if let staged {
            ThreadPool.parallelFor(tokens, grain: max(1, 16_384 / max(columns, 1))) { range in
                for t in range { permute(x + t * columns, into: staged + t * columns, count: columns, perLane: perLane) }
            }
            (staged + tokens * columns).initialize(repeating: 0, count: (padded - tokens) * columns)
        }
        let xs = UnsafePointer(staged) ?? x
        #if OPENBLAS
        OpenBLASMatMul.multiply(y: y, xs: xs, tokens: tokens, weight: weight, perLane: perLane)
        #else
        let out = padded == tokens ? y : .allocate(capacity: padded * rows)
        defer {
            if out != y {
                y.update(from: out, count: tokens * rows)
                out.deallocate()
            }
        }
        let panels = (rows + panelRows - 1) / panelRows
        ThreadPool.parallelFor(panels) { range in
            let panel = UnsafeMutablePointer<Float>.allocate(capacity: panelRows * columns)
            defer { panel.deallocate() }
            for p in range {
                let first = p * panelRows, count = min(panelRows, rows - first)
                for i in 0..<count { widenRow(weight, first + i, into: panel + i * columns, perLane: perLane) }
                var r = 0
                while r + 2 <= count {
                    microKernel(panel + r * columns, columns: columns, xs: xs, tokens: padded, y: out, rows: rows, row: first + r)
                    r += 2
                }
                if r < count {
                    for t in 0..<padded { out[t * rows + first + r] = dot(panel + r * columns, xs + t * columns, count: columns) }
                }
            }
        }
        #endif
    }

    /// Values per 32-bit lane of the stored format's fast widening (1: stored as `Float` or widened naturally).
    static func lanePacking(_ format: WeightFormat) -> Int {
        switch format {
        case .bf16: 2
        case let .fp8E4M3(_, blockColumns) where blockColumns % 64 == 0: 4
        default: 1
        }
    }

    /// Copies `count` values into lane order: within each group of `16 × perLane`, value `perLane·j + i`
    /// goes to `16·i + j`; the tail after the last full group stays in place.
    static func permute(_ source: UnsafePointer<Float>, into target: UnsafeMutablePointer<Float>, count: Int, perLane: Int) {
        let width = 16 * perLane
        let groups = perLane == 1 ? 0 : count / width
        for g in 0..<groups {
            for j in 0..<16 { for i in 0..<perLane { target[g * width + 16 * i + j] = source[g * width + perLane * j + i] } }
        }
        for c in (groups * width)..<count { target[c] = source[c] }
    }

    /// Row `row` as `Float`, in lane order.
    static func widenRow(_ weight: WeightMatrix, _ row: Int, into target: UnsafeMutablePointer<Float>, perLane: Int) {
        let columns = weight.columns
        let out = UnsafeMutableRawPointer(target)
        switch (weight.format, perLane) {
        case (.bf16, 2):
            let source = UnsafeRawPointer(weight.data.assumingMemoryBound(to: UInt16.self) + row * columns)
            let groups = columns / 32
            for g in 0..<groups {
                let (low, high) = widenBF16Pairs(source.loadUnaligned(fromByteOffset: g * 64, as: SIMD16<UInt32>.self))
                out.storeBytes(of: low, toByteOffset: g * 128, as: SIMD16<Float>.self)
                out.storeBytes(of: high, toByteOffset: g * 128 + 64, as: SIMD16<Float>.self)
            }
            let raw = source.assumingMemoryBound(to: UInt16.self)
            for c in (groups * 32)..<columns { target[c] = NumberFormats.float(bf16: raw[c]) }
        case let (.fp8E4M3(_, blockColumns), 4):
            let source = UnsafeRawPointer(weight.data.assumingMemoryBound(to: UInt8.self) + row * columns)
            let scales = weight.blockScales(row: row)
            let groups = columns / 64
            for g in 0..<groups {
                let lanes = source.loadUnaligned(fromByteOffset: g * 64, as: SIMD16<UInt32>.self)
                // widenFP8Scaled is 2⁻¹²⁰ × the value; 2⁶⁴ · (scale · 2⁵⁶) restores it without overflow.
                let scale = scales[g * 64 / blockColumns] * fp8ScaleShift
                for k in 0..<4 {
                    out.storeBytes(of: widenFP8Scaled(lanes, byte: k) * fp8ActivationShift * scale,
                                   toByteOffset: g * 256 + k * 64, as: SIMD16<Float>.self)
                }
            }
            let raw = source.assumingMemoryBound(to: UInt8.self)
            for c in (groups * 64)..<columns { target[c] = NumberFormats.float(fp8E4M3: raw[c]) * scales[c / blockColumns] }
        case (.q8, 1), (.q4, 1), (.q4a, 1):
            widenIntegerRow(weight, row, into: target)
        default:
            weight.decodeRow(row, into: target)
        }
    }

    /// Two panel rows times every token: 2 × 4 accumulators of 8 lanes per step of 4 tokens.
    @inline(__always)
    static func microKernel(_ w: UnsafePointer<Float>, columns: Int, xs: UnsafePointer<Float>, tokens: Int,
                            y: UnsafeMutablePointer<Float>, rows: Int, row: Int) {
        let w0 = UnsafeRawPointer(w), w1 = UnsafeRawPointer(w + columns)
        let vectorColumns = columns / 8 * 8
        var t = 0
        while t + tokenStep <= tokens {
            let x0 = UnsafeRawPointer(xs + t * columns), x1 = UnsafeRawPointer(xs + (t + 1) * columns)
            let x2 = UnsafeRawPointer(xs + (t + 2) * columns), x3 = UnsafeRawPointer(xs + (t + 3) * columns)
            var a00 = SIMD8<Float>(), a01 = a00, a02 = a00, a03 = a00, a10 = a00, a11 = a00, a12 = a00, a13 = a00
            var k = 0
            while k < vectorColumns {
                let offset = k * 4
                let v0 = loadFloats(w0, byteOffset: offset)
                let v1 = loadFloats(w1, byteOffset: offset)
                let u0 = loadFloats(x0, byteOffset: offset)
                multiplyAdd(&a00, v0, u0); multiplyAdd(&a10, v1, u0)
                let u1 = loadFloats(x1, byteOffset: offset)
                multiplyAdd(&a01, v0, u1); multiplyAdd(&a11, v1, u1)
                let u2 = loadFloats(x2, byteOffset: offset)
                multiplyAdd(&a02, v0, u2); multiplyAdd(&a12, v1, u2)
                let u3 = loadFloats(x3, byteOffset: offset)
                multiplyAdd(&a03, v0, u3); multiplyAdd(&a13, v1, u3)
                k += 8
            }
            var first = SIMD4<Float>(horizontalSum(a00), horizontalSum(a01), horizontalSum(a02), horizontalSum(a03))
            var second = SIMD4<Float>(horizontalSum(a10), horizontalSum(a11), horizontalSum(a12), horizontalSum(a13))
            for c in vectorColumns..<columns {
                let column = SIMD4<Float>(xs[t * columns + c], xs[(t + 1) * columns + c], xs[(t + 2) * columns + c], xs[(t + 3) * columns + c])
                first += w[c] * column
                second += w[columns + c] * column
            }
            for i in 0..<4 {
                y[(t + i) * rows + row] = first[i]
                y[(t + i) * rows + row + 1] = second[i]
            }
            t += tokenStep
        }
        while t < tokens {
            y[t * rows + row] = dot(w, xs + t * columns, count: columns)
            y[t * rows + row + 1] = dot(w + columns, xs + t * columns, count: columns)
            t += 1
        }
    }
}
