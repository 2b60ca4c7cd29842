/// The FP8 row · vector product on x86-64 with AVX2.
///
/// It widens the same way as `widenFP8Scaled` (byte at the top of its 32-bit lane, arithmetic shift right
/// by 4, sign smear masked off), but a byte shuffle moves each byte to the top instead of a shift. On
/// CPUs with one vector-shift pipe (Zen 1), the shifts had bounded the product at ~4.5 G weights/s per core.
#if arch(x86_64) && NATIVE_CPU
import _Builtin_intrinsics.intel
import CPUFeatures

/// Byte shuffles that put byte 0, 1, 2 or 3 of every 32-bit lane in its top byte and zero the rest.
/// Not inlined: seen as constants, LLVM turns the shuffles back into the shifts they equal.
@inline(never)
func fp8TopByteShuffles() -> (__m256i, __m256i, __m256i, __m256i) {
    (topByte(0), topByte(1), topByte(2), topByte(3))
}

@inline(__always)
private func topByte(_ k: Int8) -> __m256i {
    let z: Int8 = -128
    return _mm256_setr_epi8(z, z, z, k, z, z, z, 4 + k, z, z, z, 8 + k, z, z, z, 12 + k,
                            z, z, z, k, z, z, z, 4 + k, z, z, z, 8 + k, z, z, z, 12 + k)
}

/// `dotFP8` over the row's whole 64-column groups (the vector permuted for 4 values per lane).
@inline(__always)
func dotFP8GroupsAVX2(_ row: UnsafePointer<UInt8>, scales: UnsafePointer<Float>, blockColumns: Int, _ x: PackedVector) -> Float {
    let shuffles = fp8TopByteShuffles()
    let keep = _mm256_set1_epi32(Int32(bitPattern: 0x87F0_0000))
    @inline(__always)
    func widen(_ v: __m256i, _ shuffle: __m256i) -> __m256 {
        _mm256_castsi256_ps(_mm256_and_si256(_mm256_srai_epi32(_mm256_shuffle_epi8(v, shuffle), 4), keep))
    }
    let raw = UnsafeRawPointer(row), xs = x.permuted
    let groupsPerBlock = blockColumns / 64
    var total = _mm256_setzero_ps()
    var g = 0
    var block = 0
    while g < x.fullGroups {
        // One accumulator per byte position, so consecutive multiply-adds do not wait on each other.
        var a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0
        let end = min(g + groupsPerBlock, x.fullGroups)
        while g < end {
            deepseek_prefetch(raw + g * 64 + prefetchDistance)
            // Lanes 0–7, then 8–15: byte k of lane j is column 4j + k, whose activation sits at 16k + j.
            for half in 0..<2 {
                let v = load(raw + g * 64 + half * 32), base = xs + g * 64 + half * 8
                a0 = _mm256_fmadd_ps(widen(v, shuffles.0), _mm256_loadu_ps(base), a0)
                a1 = _mm256_fmadd_ps(widen(v, shuffles.1), _mm256_loadu_ps(base + 16), a1)
                a2 = _mm256_fmadd_ps(widen(v, shuffles.2), _mm256_loadu_ps(base + 32), a2)
                a3 = _mm256_fmadd_ps(widen(v, shuffles.3), _mm256_loadu_ps(base + 48), a3)
            }
            g += 1
        }
        let blockSum = _mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3))
        total = _mm256_fmadd_ps(blockSum, _mm256_set1_ps(scales[block] * fp8ScaleShift), total)
        block += 1
    }
    return sum(total)
}
#endif
