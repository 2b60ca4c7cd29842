/// Widening of the integer formats in registers, in the lane order of `PackedVector`.
///
/// Integers become `Float` without a conversion instruction: a code `u < 2²³` OR-ed into the bits of
/// 2²³ (0x4B000000) is the float `2²³ + u`, and subtracting `2²³ + bias` leaves `u − bias` exactly.
/// A `q8` row is 16 `UInt32` lanes per 64 columns (4 bytes a lane), `q4`/`q4a` 16 lanes per 128
/// columns (8 nibbles a lane); lane `j` holds consecutive columns, so each lane lies in one scale group.

/// 2²³ as the bits of a binary32 (`magic | u` is `2²³ + u` for `u < 2²³`).
let magicBits: UInt32 = 0x4B00_0000
let magicValue: Float = 0x1p23

/// Byte `k` of each lane of a `q8` row whose bytes were flipped to `u = q + 128`, as `Float` `q`.
@inline(__always)
func widenQ8(_ biased: SIMD16<UInt32>, byte k: Int) -> SIMD16<Float> {
    let code = k == 0 ? biased & 0xFF : k == 3 ? biased &>> 24 : (biased &>> UInt32(8 * k)) & 0xFF
    return unsafeBitCast(code | magicBits, to: SIMD16<Float>.self) - (magicValue + 128)
}

/// Nibble `k` of each lane as `Float` `n − bias` (`bias` 8 for `q4`, 0 for `q4a`).
@inline(__always)
func widenQ4(_ lanes: SIMD16<UInt32>, nibble k: Int, bias: Float) -> SIMD16<Float> {
    let code = k == 0 ? lanes & 0xF : k == 7 ? lanes &>> 28 : (lanes &>> UInt32(4 * k)) & 0xF
    return unsafeBitCast(code | magicBits, to: SIMD16<Float>.self) - (magicValue + bias)
}

/// One F16 value as `Float` (hardware conversion where the target has it).
@inline(__always)
func halfToFloat(_ bits: UInt16) -> Float {
    #if arch(x86_64) && os(macOS)
    NumberFormats.float(f16: bits)
    #else
    Float(Float16(bitPattern: bits))
    #endif
}

/// The scales of a `q8` group of 64 columns: lanes 0…7 hold the first group of 32, 8…15 the second.
@inline(__always)
func q8LaneScales(_ scales: UnsafePointer<UInt16>, group g: Int) -> SIMD16<Float> {
    SIMD16(lowHalf: SIMD8(repeating: halfToFloat(scales[2 * g])), highHalf: SIMD8(repeating: halfToFloat(scales[2 * g + 1])))
}

/// Per-lane values of a `q4` group of 128 columns: lanes `4i…4i+3` take entry `4g + i` of `values`.
@inline(__always)
func q4LaneValues(_ values: UnsafePointer<UInt16>, group g: Int) -> SIMD16<Float> {
    let a = halfToFloat(values[4 * g]), b = halfToFloat(values[4 * g + 1])
    let c = halfToFloat(values[4 * g + 2]), d = halfToFloat(values[4 * g + 3])
    return SIMD16(lowHalf: SIMD8(lowHalf: SIMD4(repeating: a), highHalf: SIMD4(repeating: b)),
                  highHalf: SIMD8(lowHalf: SIMD4(repeating: c), highHalf: SIMD4(repeating: d)))
}

/// `q8` row · vector, the vector permuted for 4 values per lane.
@inline(__always)
func dotQ8(_ row: UnsafePointer<UInt8>, scales: UnsafePointer<UInt16>, _ x: PackedVector) -> Float {
    let raw = UnsafeRawPointer(row), xs = UnsafeRawPointer(x.permuted)
    var total = SIMD16<Float>()
    for g in 0..<x.fullGroups {
        let biased = raw.loadUnaligned(fromByteOffset: g * 64, as: SIMD16<UInt32>.self) ^ 0x8080_8080
        let base = g * 256
        var accumulator = widenQ8(biased, byte: 0) * xs.loadUnaligned(fromByteOffset: base, as: SIMD16<Float>.self)
        multiplyAdd(&accumulator, widenQ8(biased, byte: 1), xs.loadUnaligned(fromByteOffset: base + 64, as: SIMD16<Float>.self))
        multiplyAdd(&accumulator, widenQ8(biased, byte: 2), xs.loadUnaligned(fromByteOffset: base + 128, as: SIMD16<Float>.self))
        multiplyAdd(&accumulator, widenQ8(biased, byte: 3), xs.loadUnaligned(fromByteOffset: base + 192, as: SIMD16<Float>.self))
        multiplyAdd(&total, accumulator, q8LaneScales(scales, group: g))
    }
    var sum = horizontalSum(total)
    for c in (x.fullGroups * 64)..<x.count {
        sum += Float(Int8(bitPattern: row[c])) * halfToFloat(scales[c / WeightFormat.groupSize]) * x.original[c]
    }
    return sum
}

/// `q4` (`offsets` nil) or `q4a` row · vector, the vector permuted for 8 values per lane; `q4a` also
/// needs the vector's per-group sums (`x.groupSums`) for its offsets.
@inline(__always)
func dotQ4(_ row: UnsafePointer<UInt8>, scales: UnsafePointer<UInt16>, offsets: UnsafePointer<UInt16>?, _ x: PackedVector) -> Float {
    let raw = UnsafeRawPointer(row), xs = UnsafeRawPointer(x.permuted)
    let bias: Float = offsets == nil ? 8 : 0
    var total = SIMD16<Float>()
    for g in 0..<x.fullGroups {
        let lanes = raw.loadUnaligned(fromByteOffset: g * 64, as: SIMD16<UInt32>.self)
        let base = g * 512
        var even = widenQ4(lanes, nibble: 0, bias: bias) * xs.loadUnaligned(fromByteOffset: base, as: SIMD16<Float>.self)
        var odd = widenQ4(lanes, nibble: 1, bias: bias) * xs.loadUnaligned(fromByteOffset: base + 64, as: SIMD16<Float>.self)
        multiplyAdd(&even, widenQ4(lanes, nibble: 2, bias: bias), xs.loadUnaligned(fromByteOffset: base + 128, as: SIMD16<Float>.self))
        multiplyAdd(&odd, widenQ4(lanes, nibble: 3, bias: bias), xs.loadUnaligned(fromByteOffset: base + 192, as: SIMD16<Float>.self))
        multiplyAdd(&even, widenQ4(lanes, nibble: 4, bias: bias), xs.loadUnaligned(fromByteOffset: base + 256, as: SIMD16<Float>.self))
        multiplyAdd(&odd, widenQ4(lanes, nibble: 5, bias: bias), xs.loadUnaligned(fromByteOffset: base + 320, as: SIMD16<Float>.self))
        multiplyAdd(&even, widenQ4(lanes, nibble: 6, bias: bias), xs.loadUnaligned(fromByteOffset: base + 384, as: SIMD16<Float>.self))
        multiplyAdd(&odd, widenQ4(lanes, nibble: 7, bias: bias), xs.loadUnaligned(fromByteOffset: base + 448, as: SIMD16<Float>.self))
        multiplyAdd(&total, even + odd, q4LaneValues(scales, group: g))
    }
    var sum = horizontalSum(total)
    for c in (x.fullGroups * 128)..<x.count {
        let n = Float(row[c / 2] >> UInt8(4 * (c & 1)) & 0xF) - bias
        sum += n * halfToFloat(scales[c / WeightFormat.groupSize]) * x.original[c]
    }
    if let offsets, let sums = x.groupSums {
        // Σ offset·x over each group: the offset part of n·scale + offset.
        for g in 0..<WeightFormat.groups(columns: x.count) { sum += halfToFloat(offsets[g]) * sums[g] }
    }
    return sum
}

extension BlockedMatMul {
    /// Row `row` of a `q8`, `q4` or `q4a` matrix as `Float` in lane order (4 or 8 values per lane).
    static func widenIntegerRow(_ weight: WeightMatrix, _ row: Int, into target: UnsafeMutablePointer<Float>) {
        let columns = weight.columns, groups = WeightFormat.groups(columns: columns)
        let source = UnsafeRawPointer(weight.data) + row * weight.format.rowBytes(columns: columns)
        let scales = weight.groupScales! + row * groups, offsets = weight.groupOffsets.map { $0 + row * groups }
        let out = UnsafeMutableRawPointer(target)
        let full: Int
        if weight.format == .q8 {
            full = columns / 64 * 64
            for g in 0..<(columns / 64) {
                let biased = source.loadUnaligned(fromByteOffset: g * 64, as: SIMD16<UInt32>.self) ^ 0x8080_8080
                let scale = q8LaneScales(scales, group: g)
                for k in 0..<4 { out.storeBytes(of: widenQ8(biased, byte: k) * scale, toByteOffset: g * 256 + k * 64, as: SIMD16<Float>.self) }
            }
        } else {
            full = columns / 128 * 128
            let bias: Float = offsets == nil ? 8 : 0
            for g in 0..<(columns / 128) {
                let lanes = source.loadUnaligned(fromByteOffset: g * 64, as: SIMD16<UInt32>.self)
                let scale = q4LaneValues(scales, group: g)
                let offset = offsets.map { q4LaneValues($0, group: g) } ?? SIMD16<Float>()
                for k in 0..<8 {
                    out.storeBytes(of: widenQ4(lanes, nibble: k, bias: bias) * scale + offset, toByteOffset: g * 512 + k * 64, as: SIMD16<Float>.self)
                }
            }
        }
        if full < columns {
            // The tail after the last full lane group, in column order.
            let scratch = UnsafeMutablePointer<Float>.allocate(capacity: columns)
            defer { scratch.deallocate() }
            weight.decodeRow(row, into: scratch)
            (target + full).update(from: scratch + full, count: columns - full)
        }
    }
}
