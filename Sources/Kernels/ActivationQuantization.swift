/// Int8 activations for the integer weight formats' products, as llama.cpp pairs `Q8_0` activations
/// with its integer weights: each group of `WeightFormat.groupSize` columns becomes codes
/// `q = round(x / d)` in −127…127 with `d = max|x| / 127`, and a row's dot product is summed in
/// integers per group and scaled by `d × weight scale` once.
///
/// Only the whole blocks of a row (64 columns for `q8`, 128 for `q4`/`q4a`, see `IntegerLayout`) are
/// quantized; the columns after them use the `Float` activations. The codes are stored in the order
/// the AVX2 kernels consume them (`IntegerDotAVX2`), so a kernel loads them without shuffling:
/// - `q8`, per block: code `64b + 32v + 16h + 4m + j` is column `64b + 16m + 8v + 4h + j`;
/// - `q4`, per block: code `128b + 64v + 32n + 16h + 4m + j` is column `128b + 32m + 16n + 8v + 4h + j`
///   (`n` 0 for the low nibbles, 1 for the high).
///
/// The per-block `scales` follow the lanes of a block's `Int32` partial sums: `[d₀ d₀ d₁ d₁]` twice for
/// `q8`, `[d₀ d₁ d₂ d₃]` twice for `q4`. For `q4`, `corrections` holds `8 × Σ q` of each of a block's
/// four groups (then four zeros), taken off the sums for the code bias (`n − 8`).
struct QuantizedActivations {
    /// Whether this build computes integer-format products on quantized activations (x86-64 with AVX2,
    /// FMA and F16C); elsewhere the weights are widened to `Float` in registers.
    static let isAvailable: Bool = {
        #if arch(x86_64) && NATIVE_CPU
        true
        #else
        false
        #endif
    }()

    let codes: UnsafeMutablePointer<Int8>
    let scales: UnsafeMutablePointer<Float>
    let corrections: UnsafeMutablePointer<Int32>?
    /// Whole blocks quantized.
    let blocks: Int

    /// Columns in one whole block of `format` (see `IntegerLayout`): 64 for `q8`, 128 for `q4`/`q4a`.
    @inline(__always)
    static func blockWidth(_ format: WeightFormat) -> Int { format == .q8 ? 64 : 128 }

    /// Quantizes the whole blocks of `x` (`count` columns) for products with `format` rows.
    ///
    /// - Parameter naive: take the scalar reference even where the AVX2 path exists (for tests).
    init(_ x: UnsafePointer<Float>, count: Int, format: WeightFormat, naive: Bool = false) {
        precondition(format.isGrouped, "activations are quantized for the integer formats only")
        let width = Self.blockWidth(format)
        let groupsPerBlock = width / WeightFormat.groupSize
        blocks = count / width
        codes = .allocate(capacity: max(blocks * width, 1))
        scales = .allocate(capacity: max(blocks * 8, 1))
        corrections = format == .q4 ? .allocate(capacity: max(blocks * 8, 1)) : nil
        var d = SIMD4<Float>(), sums = SIMD4<Int32>()
        for b in 0..<blocks {
            for g in 0..<groupsPerBlock {
                let group = x + b * width + g * WeightFormat.groupSize
                #if arch(x86_64) && NATIVE_CPU
                if !naive {
                    (d[g], sums[g]) = Self.quantizeGroupAVX2(group, format: format, group: g, into: codes + b * width)
                    continue
                }
                #endif
                (d[g], sums[g]) = Self.quantizeGroupNaively(group, format: format, group: g, into: codes + b * width)
            }
            for lane in 0..<8 {
                let group = format == .q8 ? (lane % 4) / 2 : lane % 4
                scales[8 * b + lane] = d[group]
                corrections?[8 * b + lane] = lane < 4 ? 8 * sums[lane] : 0
            }
        }
    }

    /// The scalar reference for one group of 32 activations (group `g` of its block): writes the codes
    /// into the block at `block` and returns the scale `d` and the sum of the codes.
    static func quantizeGroupNaively(_ group: UnsafePointer<Float>, format: WeightFormat, group g: Int,
                                     into block: UnsafeMutablePointer<Int8>) -> (d: Float, sum: Int32) {
        var largest: Float = 0
        for i in 0..<WeightFormat.groupSize { largest = max(largest, abs(group[i])) }
        let inverse: Float = largest > 0 ? 127 / largest : 0
        let width = blockWidth(format)
        var sum: Int32 = 0
        for i in 0..<WeightFormat.groupSize {
            let code = Int8(max(-127, min(127, (group[i] * inverse).rounded(.toNearestOrEven))))
            // Within a block, columns repeat every `width`; the block's own base is added by the caller.
            block[position(column: g * WeightFormat.groupSize + i, format: format).code % width] = code
            sum += Int32(code)
        }
        return (largest / 127, sum)
    }

    /// The activations the integer products use: the quantized value `q × d` of each column in a whole
    /// block, `x` itself after them (for tests against a naive product).
    static func effectiveInput(_ x: [Float], format: WeightFormat) -> [Float] {
        x.withUnsafeBufferPointer { buffer in
            let quantized = QuantizedActivations(buffer.baseAddress!, count: x.count, format: format)
            defer { quantized.deallocate() }
            var out = x
            for c in 0..<(quantized.blocks * blockWidth(format)) {
                let (code, lane) = position(column: c, format: format)
                out[c] = Float(quantized.codes[code]) * quantized.scales[lane]
            }
            return out
        }
    }

    /// Where column `c` (in a whole block) sits among the codes, and a lane of `scales` holding its group's `d`.
    @inline(__always)
    static func position(column c: Int, format: WeightFormat) -> (code: Int, scaleLane: Int) {
        if format == .q8 {
            let b = c / 64, r = c % 64, m = r / 16, v = (r % 16) / 8, h = (r % 8) / 4, j = r % 4
            return (64 * b + 32 * v + 16 * h + 4 * m + j, 8 * b + m)
        }
        let b = c / 128, r = c % 128, m = r / 32, n = (r % 32) / 16, v = (r % 16) / 8, h = (r % 8) / 4, j = r % 4
        return (128 * b + 64 * v + 32 * n + 16 * h + 4 * m + j, 8 * b + m)
    }

    func deallocate() {
        codes.deallocate()
        scales.deallocate()
        corrections?.deallocate()
    }
}
