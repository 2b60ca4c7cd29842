/// `QuantizedActivations` on x86-64 with AVX2: a group of 32 activations is scaled, rounded and packed
/// to bytes in registers, and its 4-column chunks are stored where `QuantizedActivations.position`
/// puts them. The same codes as the scalar reference (tested).
#if arch(x86_64) && NATIVE_CPU
import _Builtin_intrinsics.intel

extension QuantizedActivations {
    /// Column chunk (4 columns) held by each 32-bit element of `_mm256_packs_epi16(packs(q0, q1), packs(q2, q3))`.
    private static let packedChunks = [0, 2, 4, 6, 1, 3, 5, 7]

    /// Byte offset within a block's codes of chunk `k` (columns `4k…4k+3`) of group `g` of the block.
    @inline(__always)
    private static func chunkOffset(_ format: WeightFormat, group g: Int, chunk k: Int) -> Int {
        let h = k & 1, v = (k >> 1) & 1
        if format == .q8 { return 32 * v + 16 * h + 4 * (2 * g + k / 4) }
        return 64 * v + 32 * (k >> 2) + 16 * h + 4 * g
    }

    /// Quantizes the group of 32 activations at `x`: writes its codes into the block at `block` and
    /// returns the group's scale `d` and the sum of its codes.
    @inline(__always)
    static func quantizeGroupAVX2(_ x: UnsafePointer<Float>, format: WeightFormat, group g: Int,
                                  into block: UnsafeMutablePointer<Int8>) -> (d: Float, sum: Int32) {
        let v0 = _mm256_loadu_ps(x), v1 = _mm256_loadu_ps(x + 8), v2 = _mm256_loadu_ps(x + 16), v3 = _mm256_loadu_ps(x + 24)
        let magnitude = _mm256_castsi256_ps(_mm256_set1_epi32(0x7FFF_FFFF))
        let m = _mm256_max_ps(_mm256_max_ps(_mm256_and_ps(v0, magnitude), _mm256_and_ps(v1, magnitude)),
                              _mm256_max_ps(_mm256_and_ps(v2, magnitude), _mm256_and_ps(v3, magnitude)))
        let quad = _mm_max_ps(m.lowHalf, m.highHalf), pair = _mm_max_ps(quad, _mm_movehl_ps(quad, quad))
        let largest = Swift.max(pair[0], pair[1])
        let inverse = _mm256_set1_ps(largest > 0 ? 127 / largest : 0)
        // Rounded to nearest, ties to even (the default MXCSR mode); |q| ≤ 127 by construction.
        let q0 = _mm256_cvtps_epi32(_mm256_mul_ps(v0, inverse)), q1 = _mm256_cvtps_epi32(_mm256_mul_ps(v1, inverse))
        let q2 = _mm256_cvtps_epi32(_mm256_mul_ps(v2, inverse)), q3 = _mm256_cvtps_epi32(_mm256_mul_ps(v3, inverse))
        let bytes = _mm256_packs_epi16(_mm256_packs_epi32(q0, q1), _mm256_packs_epi32(q2, q3))
        let chunks = unsafeBitCast(bytes, to: SIMD8<UInt32>.self)
        let target = UnsafeMutableRawPointer(block)
        for e in 0..<8 {
            target.storeBytes(of: chunks[e], toByteOffset: chunkOffset(format, group: g, chunk: packedChunks[e]), as: UInt32.self)
        }
        let total = unsafeBitCast(_mm256_add_epi32(_mm256_add_epi32(q0, q1), _mm256_add_epi32(q2, q3)), to: SIMD8<Int32>.self)
        return (largest / 127, total.wrappedSum())
    }
}
#endif
