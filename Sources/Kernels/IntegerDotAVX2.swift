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

/// Runs `block` over blocks `0..<count` into two accumulators in turn, so consecutive blocks do not wait
/// on one another's multiply-add, and returns their sum.
@inline(__always)
private func alternating(_ count: Int, _ block: (Int, inout __m256) -> Void) -> __m256 {
    var even = _mm256_setzero_ps(), odd = _mm256_setzero_ps()
    var b = 0
    while b + 2 <= count {
        block(b, &even)
        block(b + 1, &odd)
        b += 2
    }
    if b < count { block(b, &even) }
    return _mm256_add_ps(even, odd)
}

/// `q8` row · quantized vector over the row's whole 64-column blocks (the tail is the caller's).
@inline(__always)
func dotQ8AVX2(_ row: UnsafePointer<UInt8>, scales: UnsafePointer<UInt16>, _ x: QuantizedActivations) -> Float {
    let ones = _mm256_set1_epi16(1)
    // Lanes [d₀ d₀ d₁ d₁] twice from the block's two F16 scales.
    let pairs = _mm256_setr_epi32(0, 0, 1, 1, 0, 0, 1, 1)
    @inline(__always)
    func block(_ b: Int, into accumulator: inout __m256) {
        let raw = UnsafeRawPointer(row + 64 * b), codes = UnsafeRawPointer(x.codes + 64 * b)
        deepseek_prefetch(raw + prefetchDistance)
        let w0 = groupBytes(load(raw)), w1 = groupBytes(load(raw + 32))
        let p0 = _mm256_maddubs_epi16(_mm256_abs_epi8(w0), _mm256_sign_epi8(load(codes), w0))
        let p1 = _mm256_maddubs_epi16(_mm256_abs_epi8(w1), _mm256_sign_epi8(load(codes + 32), w1))
        let sums = _mm256_add_epi32(_mm256_madd_epi16(p0, ones), _mm256_madd_epi16(p1, ones))
        let bits = UnsafeRawPointer(scales + 2 * b).loadUnaligned(as: Int32.self)
        let weightScales = _mm256_permutevar8x32_ps(_mm256_castps128_ps256(_mm_cvtph_ps(_mm_cvtsi32_si128(bits))), pairs)
        let factors = _mm256_mul_ps(weightScales, _mm256_loadu_ps(x.scales + 8 * b))
        accumulator = _mm256_fmadd_ps(_mm256_cvtepi32_ps(sums), factors, accumulator)
    }
    return sum(alternating(x.blocks, block))
}

/// `q4` (`offsets` nil) or `q4a` row · quantized vector over the row's whole 128-column blocks; `q4a`
/// also takes the `Float` sums of each group of the activations (`groupSums`) for its offsets.
@inline(__always)
func dotQ4AVX2(_ row: UnsafePointer<UInt8>, scales: UnsafePointer<UInt16>, offsets: UnsafePointer<UInt16>?,
               groupSums: UnsafePointer<Float>?, _ x: QuantizedActivations) -> Float {
    let ones = _mm256_set1_epi16(1)
    let nibble = _mm256_set1_epi8(0x0F)
    var offsetTotal = _mm_setzero_ps()
    @inline(__always)
    func block(_ b: Int, into accumulator: inout __m256) {
        let raw = UnsafeRawPointer(row + 64 * b), codes = UnsafeRawPointer(x.codes + 128 * b)
        deepseek_prefetch(raw + prefetchDistance)
        let w0 = groupBytes(load(raw)), w1 = groupBytes(load(raw + 32))
        // Each product is at most 2 × 15 × 127, so four of them still fit an Int16.
        let low0 = _mm256_maddubs_epi16(_mm256_and_si256(w0, nibble), load(codes))
        let high0 = _mm256_maddubs_epi16(_mm256_and_si256(_mm256_srli_epi16(w0, 4), nibble), load(codes + 32))
        let low1 = _mm256_maddubs_epi16(_mm256_and_si256(w1, nibble), load(codes + 64))
        let high1 = _mm256_maddubs_epi16(_mm256_and_si256(_mm256_srli_epi16(w1, 4), nibble), load(codes + 96))
        var sums = _mm256_madd_epi16(_mm256_add_epi16(_mm256_add_epi16(low0, high0), _mm256_add_epi16(low1, high1)), ones)
        if let corrections = x.corrections {
            sums = _mm256_sub_epi32(sums, load(corrections + 8 * b))
        }
        let quad = _mm_cvtph_ps(_mm_loadl_epi64(UnsafeRawPointer(scales + 4 * b).assumingMemoryBound(to: __m128i.self)))
        let factors = _mm256_mul_ps(_mm256_set_m128(quad, quad), _mm256_loadu_ps(x.scales + 8 * b))
        accumulator = _mm256_fmadd_ps(_mm256_cvtepi32_ps(sums), factors, accumulator)
        if let offsets, let groupSums {
            let shift = _mm_cvtph_ps(_mm_loadl_epi64(UnsafeRawPointer(offsets + 4 * b).assumingMemoryBound(to: __m128i.self)))
            offsetTotal = _mm_fmadd_ps(shift, _mm_loadu_ps(groupSums + 4 * b), offsetTotal)
        }
    }
    return sum(alternating(x.blocks, block)) + offsetTotal.sum()
}
#endif
