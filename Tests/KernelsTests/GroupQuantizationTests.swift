import Testing
@testable import Kernels

@Suite struct GroupQuantizationTests {
    /// 3 rows × 70 columns: groups of 32, 32 and a partial 6; odd column count so the last q4 byte is half used.
    static let rows = 3, columns = 70

    static func values() -> [Float] {
        var v = (0..<(rows * columns)).map { i in Float((i * 37) % 101) / 50 - 1 }
        for c in 32..<64 { v[columns + c] = 0 }        // row 1, group 1: all zero
        for c in 64..<70 { v[2 * columns + c] = 0.3 }  // row 2, last group: constant
        return v
    }

    /// The largest round-trip error of element `index`: half a step of its group, plus the F16 rounding
    /// of the scale and offset (2⁻¹¹ relative, over the largest code). In `q4` the value opposite the
    /// group's extreme may exceed code 7 by up to one more half step, so its bound is a whole step.
    static func errorBound(_ values: [Float], index: Int, columns: Int, _ format: WeightFormat) -> Float {
        let row = index / columns, start = (index % columns) / WeightFormat.groupSize * WeightFormat.groupSize
        let group = values[(row * columns + start)..<(row * columns + min(start + WeightFormat.groupSize, columns))]
        let largest = group.map(abs).max()!
        let rounding = (largest + abs(group.min()!)) * 0x1p-10
        switch format {
        case .q8: return largest / 127 / 2 + rounding
        case .q4: return largest / 8 + rounding
        default: return (group.max()! - group.min()!) / 15 / 2 + rounding
        }
    }

    func decoded(_ encoded: GroupQuantized, _ format: WeightFormat) -> [Float] {
        encoded.data.withUnsafeBytes { data in
            encoded.scales.withUnsafeBufferPointer { s in
                encoded.offsets.withUnsafeBufferPointer { o in
                    WeightMatrix(rows: Self.rows, columns: Self.columns, format: format, data: data.baseAddress!,
                                 groupScales: s.baseAddress, groupOffsets: o.baseAddress).dequantized()
                }
            }
        }
    }

    @Test(arguments: [WeightFormat.q8, .q4, .q4a])
    func roundTripIsWithinHalfAStep(format: WeightFormat) {
        let values = Self.values()
        let encoded = quantizeGroups(values, rows: Self.rows, columns: Self.columns, format: format)
        #expect(encoded.data.count == Self.rows * format.rowBytes(columns: Self.columns))
        #expect(encoded.scales.count == Self.rows * 3)
        #expect(encoded.offsets.count == (format == .q4a ? Self.rows * 3 : 0))
        let back = decoded(encoded, format)
        for i in values.indices {
            let bound = Self.errorBound(values, index: i, columns: Self.columns, format)
            #expect(abs(back[i] - values[i]) <= bound, "\(format) \(i): \(back[i]) vs \(values[i])")
        }
        // The all-zero group and the constant group come back exactly.
        for c in 32..<64 { #expect(back[Self.columns + c] == 0) }
        if format != .q4 {
            for c in 64..<70 { #expect(abs(back[2 * Self.columns + c] - 0.3) <= 0.3 * 0x1p-10) }
        }
    }

    /// q4's largest magnitude maps to code −8 (stored nibble 0) exactly, and q8's to ±127.
    @Test func extremesTakeTheEndCodes() {
        var group = [Float](repeating: 0.25, count: 32)
        group[5] = -2
        let q4 = quantizeGroups(group, rows: 1, columns: 32, format: .q4)
        #expect(q4.data[2] & 0xF0 == 0)  // column 5 is the high nibble of byte 2
        #expect(NumberFormats.float(f16: q4.scales[0]) == 0.25)
        #expect(q4.data[0] == 0x99)  // 0.25 / 0.25 = 1 → nibble 9, twice
        group[5] = 2
        let q8 = quantizeGroups(group, rows: 1, columns: 32, format: .q8)
        #expect(Int8(bitPattern: q8.data[5]) == 127)
    }

    /// Every nibble and byte code through the SIMD widening (dot and blocked panels) equals the scalar decode.
    @Test(arguments: [WeightFormat.q8, .q4, .q4a])
    func everyCodeWidensExactly(format: WeightFormat) {
        let columns = 256, rows = 4
        let rowBytes = format.rowBytes(columns: columns)
        let data = (0..<(rows * rowBytes)).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ $0 / rowBytes) }
        let scales = (0..<(rows * 8)).map { NumberFormats.f16(Float($0 % 5 + 1) / 8) }
        let offsets = format == .q4a ? (0..<(rows * 8)).map { NumberFormats.f16(Float($0 % 3) - 1) } : []
        let input = (0..<(6 * columns)).map { Float(($0 * 13) % 17) / 8 - 1 }
        data.withUnsafeBytes { d in
            scales.withUnsafeBufferPointer { s in
                offsets.withUnsafeBufferPointer { o in
                    let weight = WeightMatrix(rows: rows, columns: columns, format: format, data: d.baseAddress!,
                                              groupScales: s.baseAddress, groupOffsets: o.baseAddress)
                    let dense = weight.dequantized()
                    var expected = [Float](repeating: 0, count: 6 * rows)
                    for t in 0..<6 { for r in 0..<rows {
                        expected[t * rows + r] = (0..<columns).reduce(Float(0)) { $0 + dense[r * columns + $1] * input[t * columns + $1] }
                    } }
                    for tokens in [1, 6] {
                        let actual = matmul(Array(input[0..<(tokens * columns)]), tokens: tokens, weight: weight)
                        var reference = Array(expected[0..<(tokens * rows)])
                        if MatMulTests.quantizesActivations(format, tokens: tokens) {
                            // The integer path: against the same codes times the quantized activations.
                            reference = MatMulTests.quantizedReference(Array(input[0..<columns]), tokens: 1, dense, offsets: offsets,
                                                                       rows: rows, columns: columns, format: format)
                        }
                        for i in 0..<(tokens * rows) { #expect(abs(actual[i] - reference[i]) <= 1e-4 * (abs(reference[i]) + 1)) }
                    }
                }
            }
        }
    }
}
