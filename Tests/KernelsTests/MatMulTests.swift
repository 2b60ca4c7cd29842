import Testing
@testable import Kernels

/// Every weight format's matmul against a naive double-precision product of the dequantised matrix.
@Suite struct MatMulTests {
    struct Lcg {
        var state: UInt64
        mutating func next() -> Float {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Float(Int64(bitPattern: state >> 11) % 2000) / 1000 - 1
        }
    }

    /// Awkward sizes for both paths: 1–3 tokens stream rows, 4 and more take the blocked product
    /// (odd row counts, token counts not a multiple of 4, columns not a multiple of the lane groups).
    static let shapes: [(rows: Int, columns: Int, tokens: Int)] = [
        (1, 1, 1), (7, 33, 2), (33, 7, 3), (4097, 7, 1), (7, 4097, 2), (130, 260, 5),
        (1, 1, 4), (7, 33, 9), (33, 7, 4), (17, 4097, 6), (130, 260, 64), (9, 192, 13),
    ]

    func naive(_ input: [Float], tokens: Int, _ weight: [Float], rows: Int, columns: Int) -> [Float] {
        var out = [Float](repeating: 0, count: tokens * rows)
        for t in 0..<tokens {
            for r in 0..<rows {
                var sum = 0.0
                for c in 0..<columns { sum += Double(input[t * columns + c]) * Double(weight[r * columns + c]) }
                out[t * rows + r] = Float(sum)
            }
        }
        return out
    }

    func check(_ format: WeightFormat, rows: Int, columns: Int, tokens: Int) {
        var random = Lcg(state: UInt64(rows * 31 + columns))
        let values = (0..<(rows * columns)).map { _ in random.next() }
        let input = (0..<(tokens * columns)).map { _ in random.next() }
        var storage: [UInt8]
        var scales: [Float] = []
        var groupScales: [UInt16] = [], groupOffsets: [UInt16] = []
        switch format {
        case .q8, .q4, .q4a:
            let encoded = quantizeGroups(values, rows: rows, columns: columns, format: format)
            (storage, groupScales, groupOffsets) = (encoded.data, encoded.scales, encoded.offsets)
        case .f32: storage = values.withUnsafeBytes { Array($0) }
        case .bf16: storage = values.map(NumberFormats.bf16).withUnsafeBytes { Array($0) }
        case .f16: storage = values.map(NumberFormats.f16).withUnsafeBytes { Array($0) }
        case let .fp8E4M3(br, bc):
            let gridRows = (rows + br - 1) / br, gridColumns = (columns + bc - 1) / bc
            scales = (0..<(gridRows * gridColumns)).map { Float($0 % 5 + 1) / 64 }
            storage = (0..<(rows * columns)).map { i in
                NumberFormats.fp8E4M3(values[i] / scales[(i / columns / br) * gridColumns + (i % columns) / bc])
            }
        }
        storage.withUnsafeBytes { bytes in
            scales.withUnsafeBufferPointer { s in
              groupScales.withUnsafeBufferPointer { gs in
               groupOffsets.withUnsafeBufferPointer { go in
                let weight = WeightMatrix(rows: rows, columns: columns, format: format, data: bytes.baseAddress!, scales: s.baseAddress,
                                          groupScales: gs.baseAddress, groupOffsets: go.baseAddress)
                let dense = weight.dequantized()
                let exact = naive(input, tokens: tokens, dense, rows: rows, columns: columns)
                let actual = matmul(input, tokens: tokens, weight: weight)
                var expected = exact
                if Self.quantizesActivations(format, tokens: tokens) {
                    // The integer path multiplies quantized activations: it must match a naive product of
                    // exactly those, and stay within half an activation step of the Float product.
                    expected = Self.quantizedReference(input, tokens: tokens, dense, offsets: groupOffsets, rows: rows, columns: columns,
                                                       format: format)
                    let bound = Self.activationErrorBound(input, tokens: tokens, dense, rows: rows, columns: columns, format: format)
                    for i in actual.indices {
                        #expect(abs(actual[i] - exact[i]) <= bound[i] + 1e-5 * Float(columns), "\(format) \(rows)×\(columns)×\(tokens) [\(i)]")
                    }
                }
                let worst = zip(actual, expected).map { abs($0 - $1) }.max() ?? 0
                #expect(worst <= 1e-5 * Float(columns), "\(format) \(rows)×\(columns)×\(tokens): \(worst)")
                // A view of some rows (starting part-way through an FP8 scale block) is those rows.
                let first = rows / 3, viewRows = (rows - first + 1) / 2
                let view = weight.rows(first..<(first + viewRows))
                #expect(view.dequantized() == Array(dense[(first * columns)..<((first + viewRows) * columns)]), "\(format) view of \(rows)×\(columns)")
                let viewed = matmul(input, tokens: tokens, weight: view)
                for t in 0..<tokens {
                    for r in 0..<viewRows {
                        #expect(abs(viewed[t * viewRows + r] - actual[t * rows + first + r]) <= 1e-5 * Float(columns),
                                "\(format) view \(rows)×\(columns)×\(tokens) [\(t), \(r)]")
                    }
                }
                if format.isGrouped && tokens < BlockedMatMul.tokenStep {
                    // The Float widening of the integer formats (taken where AVX2 is missing) still matches.
                    input.withUnsafeBufferPointer { x in
                        let scratch = UnsafeMutablePointer<Float>.allocate(capacity: columns)
                        defer { scratch.deallocate() }
                        for t in 0..<tokens {
                            let packed = PackedVector(x.baseAddress! + t * columns, count: columns, for: weight, quantize: false)
                            defer { packed.deallocate() }
                            for r in 0..<rows {
                                let value = weight.dot(row: r, packed, scratch: scratch)
                                #expect(abs(value - exact[t * rows + r]) <= 1e-5 * Float(columns), "\(format) Float path \(rows)×\(columns) [\(t), \(r)]")
                            }
                        }
                    }
                }
                // The dequantised values are the stored format's values.
                for i in Swift.stride(from: 0, to: rows * columns, by: max(1, rows * columns / 97)) {
                    let stored: Float
                    switch format {
                    case .f32: stored = values[i]
                    case .bf16: stored = NumberFormats.float(bf16: NumberFormats.bf16(values[i]))
                    case .f16: stored = NumberFormats.float(f16: NumberFormats.f16(values[i]))
                    case let .fp8E4M3(br, bc):
                        let gridColumns = (columns + bc - 1) / bc
                        stored = NumberFormats.float(fp8E4M3: storage[i]) * scales[(i / columns / br) * gridColumns + (i % columns) / bc]
                    case .q8, .q4, .q4a:
                        // Integer codes are checked by the round-trip bound instead.
                        stored = dense[i]
                        #expect(abs(dense[i] - values[i]) <= GroupQuantizationTests.errorBound(values, index: i, columns: columns, format))
                    }
                    #expect(dense[i] == stored)
                }
               }
              }
            }
        }
    }

    /// Whether `matmul` multiplies `format` rows by Int8 activations for `tokens` tokens on this build.
    static func quantizesActivations(_ format: WeightFormat, tokens: Int) -> Bool {
        format.isGrouped && tokens < BlockedMatMul.tokenStep && QuantizedActivations.isAvailable
    }

    /// The integer path's product from its definition: the weights times the quantized activations,
    /// except `q4a`'s offsets, which multiply the `Float` activations (their group sums).
    static func quantizedReference(_ input: [Float], tokens: Int, _ dense: [Float], offsets: [UInt16], rows: Int, columns: Int,
                                   format: WeightFormat) -> [Float] {
        let effective = (0..<tokens).flatMap { t in
            QuantizedActivations.effectiveInput(Array(input[(t * columns)..<((t + 1) * columns)]), format: format)
        }
        guard format == .q4a else { return MatMulTests().naive(effective, tokens: tokens, dense, rows: rows, columns: columns) }
        let groups = WeightFormat.groups(columns: columns)
        let offsetPart = (0..<(rows * columns)).map { i in NumberFormats.float(f16: offsets[i / columns * groups + i % columns / 32]) }
        let scaled = zip(dense, offsetPart).map { $0 - $1 }
        return zip(MatMulTests().naive(effective, tokens: tokens, scaled, rows: rows, columns: columns),
                   MatMulTests().naive(input, tokens: tokens, offsetPart, rows: rows, columns: columns)).map { $0 + $1 }
    }

    /// For each output, `Σ_c |w[r, c]| · d/2` over the columns of whole integer blocks, `d` being that
    /// column's activation step (`max|x|` of its group of 32 over 127): how far quantizing the
    /// activations may move a product. Computed here from the definition, not by the kernel's code.
    static func activationErrorBound(_ input: [Float], tokens: Int, _ dense: [Float], rows: Int, columns: Int,
                                     format: WeightFormat) -> [Float] {
        let whole = columns / (format == .q8 ? 64 : 128) * (format == .q8 ? 64 : 128)
        var bound = [Float](repeating: 0, count: tokens * rows)
        for t in 0..<tokens {
            let steps = (0..<whole).map { c in
                let g = c / 32 * 32 + t * columns
                return input[g..<(g + 32)].map(abs).max()! / 127
            }
            for r in 0..<rows {
                var sum: Float = 0
                for c in 0..<whole { sum += abs(dense[r * columns + c]) * steps[c] / 2 }
                bound[t * rows + r] = sum * 1.001
            }
        }
        return bound
    }

    /// A token's products are the same bits wherever it sits in the call and however many tokens come with
    /// it, on either path (the blocked one pads to whole tiles), so batched sequences get what they get alone.
    @Test(arguments: [WeightFormat.f32, .bf16, .fp8E4M3(blockRows: 128, blockColumns: 128), .q8, .q4])
    func aTokensProductsDoNotDependOnTheOthers(format: WeightFormat) {
        guard blockedMatmulIsTokenInvariant else { return }
        let rows = 19, columns = 256, tokens = 13
        var random = Lcg(state: 7)
        let values = (0..<(rows * columns)).map { _ in random.next() }
        let input = (0..<(tokens * columns)).map { _ in random.next() }
        let encoded: (data: [UInt8], scales: [UInt16], offsets: [UInt16], blockScales: [Float])
        switch format {
        case .f32: encoded = (values.withUnsafeBytes { Array($0) }, [], [], [])
        case .bf16: encoded = (values.map(NumberFormats.bf16).withUnsafeBytes { Array($0) }, [], [], [])
        case .fp8E4M3: encoded = (values.map { NumberFormats.fp8E4M3($0 * 100) }, [], [], [0.01, 0.01, 0.01, 0.01])
        default:
            let groups = quantizeGroups(values, rows: rows, columns: columns, format: format)
            encoded = (groups.data, groups.scales, groups.offsets, [])
        }
        encoded.data.withUnsafeBytes { bytes in encoded.scales.withUnsafeBufferPointer { gs in encoded.offsets.withUnsafeBufferPointer { go in
            encoded.blockScales.withUnsafeBufferPointer { bs in
                let weight = WeightMatrix(rows: rows, columns: columns, format: format, data: bytes.baseAddress!, scales: bs.baseAddress,
                                          groupScales: gs.baseAddress, groupOffsets: go.baseAddress)
                for path in [ProductPath.blocked, .streaming] {
                    let all = matmul(input, tokens: tokens, weight: weight, path: path)
                    for (first, count) in [(0, 1), (5, 1), (3, 2), (2, 7), (9, 4), (12, 1)] {
                        let part = matmul(Array(input[(first * columns)..<((first + count) * columns)]), tokens: count, weight: weight, path: path)
                        #expect(part == Array(all[(first * rows)..<((first + count) * rows)]), "\(format) \(path) tokens \(first)..<\(first + count)")
                    }
                }
            }
        }}}
    }

    /// The integer kernels take rows in pairs (the last of an odd range with itself): any sub-range, one
    /// or several tokens, gives each row exactly what the whole range gives it.
    @Test(arguments: [WeightFormat.q8, .q4, .q4a, .bf16])
    func rowRangesAgreeWithTheWholeMatrix(format: WeightFormat) {
        let rows = 9, columns = 300, tokens = 2
        var random = Lcg(state: 99)
        let values = (0..<(rows * columns)).map { _ in random.next() }
        let input = (0..<(tokens * columns)).map { _ in random.next() }
        let encoded: (data: [UInt8], scales: [UInt16], offsets: [UInt16])
        if format == .bf16 {
            encoded = (values.map(NumberFormats.bf16).withUnsafeBytes { Array($0) }, [], [])
        } else {
            let groups = quantizeGroups(values, rows: rows, columns: columns, format: format)
            encoded = (groups.data, groups.scales, groups.offsets)
        }
        encoded.data.withUnsafeBytes { bytes in encoded.scales.withUnsafeBufferPointer { gs in encoded.offsets.withUnsafeBufferPointer { go in
            input.withUnsafeBufferPointer { x in
                let weight = WeightMatrix(rows: rows, columns: columns, format: format, data: bytes.baseAddress!,
                                          groupScales: gs.baseAddress, groupOffsets: go.baseAddress)
                let vectors = (0..<tokens).map { PackedVector(x.baseAddress! + $0 * columns, count: columns, for: weight) }
                defer { vectors.forEach { $0.deallocate() } }
                let scratch = UnsafeMutablePointer<Float>.allocate(capacity: columns)
                defer { scratch.deallocate() }
                var whole = [Float](repeating: .nan, count: tokens * rows)
                whole.withUnsafeMutableBufferPointer { weight.dot(rows: 0..<rows, vectors, into: $0.baseAddress!, stride: rows, scratch: scratch) }
                #expect(!whole.contains { $0.isNaN })
                for range in [0..<1, 1..<4, 3..<4, 2..<9, 8..<9, 0..<8] {
                    var part = [Float](repeating: .nan, count: tokens * range.count)
                    part.withUnsafeMutableBufferPointer {
                        weight.dot(rows: range, vectors, into: $0.baseAddress!, stride: range.count, scratch: scratch)
                    }
                    for t in 0..<tokens {
                        for (i, r) in range.enumerated() {
                            #expect(part[t * range.count + i] == whole[t * rows + r], "\(format) rows \(range) token \(t) row \(r)")
                        }
                    }
                }
            }
        }}}
    }

    @Test(arguments: [WeightFormat.f32, .bf16, .f16, .fp8E4M3(blockRows: 128, blockColumns: 128), .fp8E4M3(blockRows: 3, blockColumns: 5),
                      .q8, .q4, .q4a])
    func matmulMatchesNaiveOnAwkwardShapes(format: WeightFormat) {
        for shape in Self.shapes { check(format, rows: shape.rows, columns: shape.columns, tokens: shape.tokens) }
    }
}

@Suite struct ElementwiseKernelTests {
    @Test func rmsNormMatchesDefinitionWithStride() {
        var x: [Float] = [1, 2, 3, 9, 4, 5, 6, 9]
        rmsNorm(&x, rows: 2, columns: 3, stride: 4, weight: [1, 2, 0.5], epsilon: 1e-6)
        let r0 = 1 / (14.0 / 3 + 1e-6).squareRoot(), r1 = 1 / (77.0 / 3 + 1e-6).squareRoot()
        let expected: [Double] = [1 * r0, 4 * r0, 1.5 * r0, 9, 4 * r1, 10 * r1, 3 * r1, 9]
        for (a, e) in zip(x, expected) { #expect(abs(Double(a) - e) < 1e-6) }
    }

    @Test func softmaxIsStableAndNormalised() {
        var x: [Float] = [1000, 1001, 1002, 7]
        softmax(&x, range: 0..<3)
        #expect(abs(x[0..<3].reduce(0, +) - 1) < 1e-6 && x[2] > x[1] && x[3] == 7)
    }

    @Test func rotaryPairsInterleavedAndHalves() {
        var a: [Float] = [1, 0, 0, 1]
        rotate(&a, offset: 0, count: 4, cos: [0, 1], sin: [1, 0], interleaved: true)
        #expect(a == [0, 1, 0, 1])
        var b: [Float] = [1, 0, 0, 1]
        rotate(&b, offset: 0, count: 4, cos: [0, 1], sin: [1, 0], interleaved: false)
        #expect(b == [0, 0, 1, 1])
    }

    @Test func causalAttentionMasksTheFuture() {
        // One head, two queries at positions 0 and 1, keys equal so weights are uniform over what is visible.
        let out = causalAttention(query: [1, 1], keys: [1, 1], values: [10, 20], heads: 1, queryTokens: 2, keyTokens: 2,
                                  keyDim: 1, valueDim: 1, firstQueryPosition: 0, scale: 1)
        #expect(out == [10, 15])
    }
}

@Suite struct FP8WideningTests {
    /// Both FP8 group kernels (shifts, and on AVX2 builds the byte shuffles) equal a naive product over
    /// the whole 64-column groups, for rows holding every finite pattern in two column blocks.
    /// Every FP8 pattern at every byte position of a lane comes out of both group kernels exactly.
    @Test func everyFP8PatternIsExactInEveryPosition() {
        let ones = [Float](repeating: 1, count: 64)
        ones.withUnsafeBufferPointer { xs in
            var failures = 0
            for pattern in (0..<256).map(UInt8.init) where pattern & 0x7F != 0x7F {
                for column in [0, 1, 2, 3, 37, 38, 63] {
                    var row = [UInt8](repeating: 0, count: 64)
                    row[column] = pattern
                    let scale: [Float] = [0.5]
                    let expected = NumberFormats.float(fp8E4M3: pattern) * 0.5
                    row.withUnsafeBufferPointer { r in scale.withUnsafeBufferPointer { s in
                        let weight = WeightMatrix(rows: 1, columns: 64, format: .fp8E4M3(blockRows: 128, blockColumns: 64),
                                                  data: UnsafeRawPointer(r.baseAddress!), scales: s.baseAddress)
                        let packed = PackedVector(xs.baseAddress!, count: 64, for: weight)
                        defer { packed.deallocate() }
                        if dotFP8Groups(r.baseAddress!, scales: s.baseAddress!, blockColumns: 64, packed) != expected { failures += 1 }
                        #if arch(x86_64) && NATIVE_CPU
                        if dotFP8GroupsAVX2(r.baseAddress!, scales: s.baseAddress!, blockColumns: 64, packed) != expected { failures += 1 }
                        #endif
                    } }
                }
            }
            #expect(failures == 0)
        }
    }

    @Test func groupKernelsMatchTheNaiveProduct() {
        let patterns = (0..<256).map(UInt8.init).filter { $0 & 0x7F != 0x7F }
        let row = Array(patterns.reversed()) + patterns  // 508 columns: 7 whole groups, 2 blocks of 256
        let scales: [Float] = [0.75, 3]
        var random = MatMulTests.Lcg(state: 3)
        let x = (0..<row.count).map { _ in random.next() }
        let whole = row.count / 64 * 64
        let expected = (0..<whole).reduce(0.0) { $0 + Double(NumberFormats.float(fp8E4M3: row[$1])) * Double(scales[$1 / 256]) * Double(x[$1]) }
        row.withUnsafeBufferPointer { r in scales.withUnsafeBufferPointer { s in x.withUnsafeBufferPointer { xs in
            let weight = WeightMatrix(rows: 1, columns: row.count, format: .fp8E4M3(blockRows: 128, blockColumns: 256),
                                      data: UnsafeRawPointer(r.baseAddress!), scales: s.baseAddress)
            let packed = PackedVector(xs.baseAddress!, count: row.count, for: weight)
            defer { packed.deallocate() }
            let generic = dotFP8Groups(r.baseAddress!, scales: s.baseAddress!, blockColumns: 256, packed)
            #expect(abs(Double(generic) - expected) <= 1e-5 * abs(expected) + 1e-4, "shifts: \(generic) vs \(expected)")
            #if arch(x86_64) && NATIVE_CPU
            let shuffled = dotFP8GroupsAVX2(r.baseAddress!, scales: s.baseAddress!, blockColumns: 256, packed)
            #expect(abs(Double(shuffled) - expected) <= 1e-5 * abs(expected) + 1e-4, "byte shuffles: \(shuffled) vs \(expected)")
            #endif
        } } }
    }

    /// Every finite FP8 pattern through the SIMD widening (decodeRow) and the fused dot equals the table.
    @Test func everyPatternWidensExactly() {
        let patterns = (0..<256).map(UInt8.init).filter { $0 & 0x7F != 0x7F }
        let columns = patterns.count
        let scales: [Float] = [0.75, 3]  // two column blocks of 128 (the second partial)
        patterns.withUnsafeBytes { bytes in
            scales.withUnsafeBufferPointer { s in
                let w = WeightMatrix(rows: 1, columns: columns, format: .fp8E4M3(blockRows: 128, blockColumns: 128),
                                     data: bytes.baseAddress!, scales: s.baseAddress)
                let dense = w.dequantized()
                for (c, bits) in patterns.enumerated() {
                    #expect(dense[c] == NumberFormats.float(fp8E4M3: bits) * scales[c / 128], "pattern \(bits)")
                }
                for c in 0..<columns {
                    var x = [Float](repeating: 0, count: columns)
                    x[c] = 1
                    #expect(matmul(x, tokens: 1, weight: w) == [dense[c]], "column \(c)")
                }
            }
        }
    }
}
