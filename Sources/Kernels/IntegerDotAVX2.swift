/// Integer-format row · vector products on x86-64 with AVX2, over `QuantizedActivations`.
///
/// Per 32 weight bytes: a byte shuffle puts each lane's byte `m` (one `IntegerLayout` column run) next
/// to the same byte of the lane beside it, `vpmaddubsw` multiplies unsigned by signed bytes and adds
/// neighbours into `Int16`, and `vpmaddwd` by ones adds those into `Int32` lanes that each hold one
/// scale group's partial sum. A block's sums become `Float` once and take `d × weight scale` in one
/// fused multiply-add. `q8`'s signed codes go through `vpsignb`/`vpabsb` (|w| unsigned, x with w's sign);
/// `q4`'s nibbles are unsigned already.
#if arch(x86_64) && NATIVE_CPU
import _Builtin_intrinsics.intel
import CPUFeatures

/// Within each 16-byte half: byte `4j + m` to position `4m + j`.
@inline(__always)
private func groupBytes(_ v: __m256i) -> __m256i {
    let order = _mm256_setr_epi8(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15,
                                 0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15)
    return _mm256_shuffle_epi8(v, order)
}

@inline(__always)
func load(_ p: UnsafeRawPointer) -> __m256i {
    _mm256_loadu_si256(p.assumingMemoryBound(to: __m256i.self))
}

@inline(__always)
func sum(_ v: __m256) -> Float {
    v.sum()
}

/// Where a pair of rows of one integer-format matrix starts: the weight bytes, the F16 group scales, and
/// for `q4a` the F16 group offsets. Both rows of a pair advance together; a pair may name one row twice.
struct RowPair {
    let a: UnsafeRawPointer, b: UnsafeRawPointer
    let scalesA: UnsafePointer<UInt16>, scalesB: UnsafePointer<UInt16>
    let offsetsA: UnsafePointer<UInt16>?, offsetsB: UnsafePointer<UInt16>?
}

/// Four F16 values as `Float` lanes.
@inline(__always)
private func halfQuad(_ p: UnsafePointer<UInt16>) -> __m128 {
    _mm_cvtph_ps(_mm_loadl_epi64(UnsafeRawPointer(p).assumingMemoryBound(to: __m128i.self)))
}

/// Lanes `[s₀ s₁ s₂ s₃]` twice from four F16 scales.
@inline(__always)
private func quadScales(_ p: UnsafePointer<UInt16>) -> __m256 {
    let quad = halfQuad(p)
    return _mm256_set_m128(quad, quad)
}

/// `q8` rows · quantized vector over the rows' whole 64-column blocks (the tails are the caller's); both
/// rows take the activation codes of a block from one load.
@inline(__always)
func dotQ8AVX2(_ rows: RowPair, _ x: QuantizedActivations) -> (Float, Float) {
    let ones = _mm256_set1_epi16(1)
    // Lanes [d₀ d₀ d₁ d₁] twice from the block's two F16 scales.
    let pairs = _mm256_setr_epi32(0, 0, 1, 1, 0, 0, 1, 1)
    @inline(__always)
    func sums(_ raw: UnsafeRawPointer, _ x0: __m256i, _ x1: __m256i) -> __m256 {
        let w0 = groupBytes(load(raw)), w1 = groupBytes(load(raw + 32))
        let p0 = _mm256_maddubs_epi16(_mm256_abs_epi8(w0), _mm256_sign_epi8(x0, w0))
        let p1 = _mm256_maddubs_epi16(_mm256_abs_epi8(w1), _mm256_sign_epi8(x1, w1))
        return _mm256_cvtepi32_ps(_mm256_add_epi32(_mm256_madd_epi16(p0, ones), _mm256_madd_epi16(p1, ones)))
    }
    @inline(__always)
    func weightScales(_ scales: UnsafePointer<UInt16>) -> __m256 {
        let bits = UnsafeRawPointer(scales).loadUnaligned(as: Int32.self)
        return _mm256_permutevar8x32_ps(_mm256_castps128_ps256(_mm_cvtph_ps(_mm_cvtsi32_si128(bits))), pairs)
    }
    var totalA = _mm256_setzero_ps(), totalB = _mm256_setzero_ps()
    for block in 0..<x.blocks {
        let a = rows.a + 64 * block, b = rows.b + 64 * block, codes = UnsafeRawPointer(x.codes + 64 * block)
        deepseek_prefetch(a + prefetchDistance)
        deepseek_prefetch(b + prefetchDistance)
        let x0 = load(codes), x1 = load(codes + 32), d = _mm256_loadu_ps(x.scales + 8 * block)
        totalA = _mm256_fmadd_ps(sums(a, x0, x1), _mm256_mul_ps(weightScales(rows.scalesA + 2 * block), d), totalA)
        totalB = _mm256_fmadd_ps(sums(b, x0, x1), _mm256_mul_ps(weightScales(rows.scalesB + 2 * block), d), totalB)
    }
    return (sum(totalA), sum(totalB))
}

/// `q4` (no offsets) or `q4a` rows · quantized vector over the rows' whole 128-column blocks; `q4a` also
/// takes the `Float` sums of each group of the activations (`groupSums`) for its offsets. Both rows take
/// the activation codes of a block from one load.
@inline(__always)
func dotQ4AVX2(_ rows: RowPair, groupSums: UnsafePointer<Float>?, _ x: QuantizedActivations) -> (Float, Float) {
    let ones = _mm256_set1_epi16(1)
    let nibble = _mm256_set1_epi8(0x0F)
    @inline(__always)
    func sums(_ raw: UnsafeRawPointer, _ codes: UnsafeRawPointer) -> __m256i {
        let w0 = groupBytes(load(raw)), w1 = groupBytes(load(raw + 32))
        // Each product is at most 2 × 15 × 127, so four of them still fit an Int16.
        let low0 = _mm256_maddubs_epi16(_mm256_and_si256(w0, nibble), load(codes))
        let high0 = _mm256_maddubs_epi16(_mm256_and_si256(_mm256_srli_epi16(w0, 4), nibble), load(codes + 32))
        let low1 = _mm256_maddubs_epi16(_mm256_and_si256(w1, nibble), load(codes + 64))
        let high1 = _mm256_maddubs_epi16(_mm256_and_si256(_mm256_srli_epi16(w1, 4), nibble), load(codes + 96))
        return _mm256_madd_epi16(_mm256_add_epi16(_mm256_add_epi16(low0, high0), _mm256_add_epi16(low1, high1)), ones)
    }
    var totalA = _mm256_setzero_ps(), totalB = _mm256_setzero_ps()
    var shiftA = _mm_setzero_ps(), shiftB = _mm_setzero_ps()
    for block in 0..<x.blocks {
        let a = rows.a + 64 * block, b = rows.b + 64 * block, codes = UnsafeRawPointer(x.codes + 128 * block)
        deepseek_prefetch(a + prefetchDistance)
        deepseek_prefetch(b + prefetchDistance)
        var sumsA = sums(a, codes), sumsB = sums(b, codes)
        if let corrections = x.corrections {
            let correction = load(corrections + 8 * block)
            sumsA = _mm256_sub_epi32(sumsA, correction)
            sumsB = _mm256_sub_epi32(sumsB, correction)
        }
        let d = _mm256_loadu_ps(x.scales + 8 * block)
        totalA = _mm256_fmadd_ps(_mm256_cvtepi32_ps(sumsA), _mm256_mul_ps(quadScales(rows.scalesA + 4 * block), d), totalA)
        totalB = _mm256_fmadd_ps(_mm256_cvtepi32_ps(sumsB), _mm256_mul_ps(quadScales(rows.scalesB + 4 * block), d), totalB)
        if let offsetsA = rows.offsetsA, let offsetsB = rows.offsetsB, let groupSums {
            let groupSum = _mm_loadu_ps(groupSums + 4 * block)
            shiftA = _mm_fmadd_ps(halfQuad(offsetsA + 4 * block), groupSum, shiftA)
            shiftB = _mm_fmadd_ps(halfQuad(offsetsB + 4 * block), groupSum, shiftB)
        }
    }
    return (sum(totalA) + shiftA.sum(), sum(totalB) + shiftB.sum())
}
#endif
