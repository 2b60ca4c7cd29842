import Testing
@testable import Kernels

/// The Int8 activations of the integer products, the transposed keys of the absorbed attention, and
/// products sharing one prepared input.
@Suite struct ActivationQuantizationTests {
    static func values(_ count: Int, seed: UInt64) -> [Float] {
        var state = seed
        return (0..<count).map { _ in
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Float(Int64(bitPattern: state >> 11) % 2000) / 1000 - 1
        }
    }

    /// Each whole-block column comes back within half its group's step; the largest magnitude of a group
    /// is exact (code ±127), a zero group stays zero, and the tail after the last block is untouched.
    @Test(arguments: [WeightFormat.q8, .q4, .q4a])
    func quantizedActivationsAreWithinHalfAStep(format: WeightFormat) {
        let columns = 300
        var x = Self.values(columns, seed: 5)
        for c in 32..<64 { x[c] = 0 }
        x[70] = 3
        let effective = QuantizedActivations.effectiveInput(x, format: format)
        let whole = columns / (format == .q8 ? 64 : 128) * (format == .q8 ? 64 : 128)
        for c in 0..<columns {
            guard c < whole else { #expect(effective[c] == x[c]); continue }
            let group = x[(c / 32 * 32)..<(c / 32 * 32 + 32)]
            let step = group.map(abs).max()! / 127
            #expect(abs(effective[c] - x[c]) <= step / 2 * 1.0001 + 1e-7, "\(format) column \(c)")
        }
        for c in 32..<64 { #expect(effective[c] == 0) }
        #expect(abs(effective[70] - 3) <= 3e-7)
    }

    /// The vector quantizer gives the scalar reference's codes, scales and corrections exactly, ties
    /// (a value at exactly half a step) and all-zero groups included.
    @Test(arguments: [WeightFormat.q8, .q4, .q4a])
    func vectorQuantizerMatchesTheReference(format: WeightFormat) {
        var x = Self.values(1000, seed: 8)
        for c in 128..<160 { x[c] = 0 }
        // Largest 127 makes the step 1: these land on ties (…​.5), rounded to even by both.
        x[256] = 127
        for c in 257..<270 { x[c] = Float(c - 257) - 6.5 }
        x.withUnsafeBufferPointer { buffer in
            let fast = QuantizedActivations(buffer.baseAddress!, count: x.count, format: format)
            let naive = QuantizedActivations(buffer.baseAddress!, count: x.count, format: format, naive: true)
            defer { fast.deallocate(); naive.deallocate() }
            let width = format == .q8 ? 64 : 128
            #expect(fast.blocks == x.count / width)
            for i in 0..<(fast.blocks * width) { #expect(fast.codes[i] == naive.codes[i], "\(format) code \(i)") }
            for i in 0..<(fast.blocks * 8) {
                #expect(fast.scales[i] == naive.scales[i], "\(format) scale \(i)")
                #expect(fast.corrections?[i] == naive.corrections?[i], "\(format) correction \(i)")
            }
        }
    }

    /// `AbsorbedKeys` holds `W_UKᵀ` of every head: exactly for the Float formats and FP8, within half a
    /// `q8` step (plus F16 scale rounding) of the stored values for the integer formats.
    @Test(arguments: [WeightFormat.f32, .bf16, .fp8E4M3(blockRows: 128, blockColumns: 128), .q8, .q4, .q4a])
    func absorbedKeysAreTheTransposedKeyHalf(format: WeightFormat) {
        let shape = LatentAttentionShape(heads: 2, qkNopeDim: 40, qkRopeDim: 8, vHeadDim: 24, kvLoraRank: 96)
        let rows = shape.heads * shape.kvBRowsPerHead, columns = shape.kvLoraRank
        let values = Self.values(rows * columns, seed: 11)
        var data: [UInt8], scales: [Float] = [], groupScales: [UInt16] = [], groupOffsets: [UInt16] = []
        switch format {
        case .f32: data = values.withUnsafeBytes { Array($0) }
        case .bf16: data = values.map(NumberFormats.bf16).withUnsafeBytes { Array($0) }
        case .fp8E4M3:
            // rows 144 = two blocks of 128 rows; one block along the 96 columns.
            scales = [0.5, 0.25]
            data = values.enumerated().map { i, v in NumberFormats.fp8E4M3(v / scales[i / columns / 128]) }
        default:
            let encoded = quantizeGroups(values, rows: rows, columns: columns, format: format)
            (data, groupScales, groupOffsets) = (encoded.data, encoded.scales, encoded.offsets)
        }
        data.withUnsafeBytes { d in scales.withUnsafeBufferPointer { s in groupScales.withUnsafeBufferPointer { gs in
            groupOffsets.withUnsafeBufferPointer { go in
                let kvB = WeightMatrix(rows: rows, columns: columns, format: format, data: d.baseAddress!, scales: s.baseAddress,
                                       groupScales: gs.baseAddress, groupOffsets: go.baseAddress)
                let stored = kvB.dequantized()
                let keys = AbsorbedKeys(kvB: kvB, shape: shape)
                #expect(keys.weight.rows == shape.heads * shape.kvLoraRank && keys.weight.columns == shape.qkNopeDim)
                for h in 0..<shape.heads {
                    let head = keys.head(h).dequantized()
                    for k in 0..<shape.kvLoraRank {
                        // q8 re-quantizes along the new rows: half a step of that row's group of 32.
                        for n in 0..<shape.qkNopeDim {
                            let original = stored[(h * shape.kvBRowsPerHead + n) * columns + k]
                            let transposed = head[k * shape.qkNopeDim + n]
                            if format.isGrouped {
                                let start = n / 32 * 32, end = min(start + 32, shape.qkNopeDim)
                                let largest = (start..<end).map { abs(stored[(h * shape.kvBRowsPerHead + $0) * columns + k]) }.max()!
                                #expect(abs(transposed - original) <= largest / 127 * 0.5 * 1.002 + largest * 1e-3)
                            } else {
                                #expect(transposed == original)
                            }
                        }
                    }
                }
            }
        } } }
    }

    /// Jobs that share one input array (and so its prepared vectors) give what separate products give.
    @Test(arguments: [WeightFormat.bf16, .q8, .q4])
    func groupedJobsOnOneInputMatchSeparateProducts(format: WeightFormat) {
        let columns = 256, x = Self.values(columns, seed: 3)
        let matrices = (0..<3).map { Self.values(40 * columns, seed: UInt64(20 + $0)) }
        let encoded = matrices.map { values -> (data: [UInt8], scales: [UInt16]) in
            if format == .bf16 { return (values.map(NumberFormats.bf16).withUnsafeBytes { Array($0) }, []) }
            let q = quantizeGroups(values, rows: 40, columns: columns, format: format)
            return (q.data, q.scales)
        }
        let weights = encoded.map { e in
            let data = UnsafeMutableRawPointer.allocate(byteCount: e.data.count, alignment: 64)
            data.copyMemory(from: e.data, byteCount: e.data.count)
            let scales = UnsafeMutablePointer<UInt16>.allocate(capacity: max(e.scales.count, 1))
            scales.initialize(from: e.scales, count: e.scales.count)
            return (WeightMatrix(rows: 40, columns: columns, format: format, data: data, groupScales: scales), data, scales)
        }
        defer { for (_, data, scales) in weights { data.deallocate(); scales.deallocate() } }
        let other = Self.values(columns, seed: 4)
        let grouped = groupedMatmul([(weights[0].0, x), (weights[1].0, x), (weights[2].0, other)], tokens: 1)
        #expect(grouped[0] == matmul(x, tokens: 1, weight: weights[0].0))
        #expect(grouped[1] == matmul(x, tokens: 1, weight: weights[1].0))
        #expect(grouped[2] == matmul(other, tokens: 1, weight: weights[2].0))
    }
}
