import CPUFeatures

/// Widening of the integer formats in registers.
///
/// Integers become `Float` without a conversion instruction: a code `u < 2²³` OR-ed into the bits of
/// 2²³ (0x4B000000) is the float `2²³ + u`, and subtracting `2²³ + bias` leaves `u − bias` exactly.
/// A row is read as 16 `UInt32` lanes per block (64 columns of `q8`, 128 of `q4`), laid out by
/// `IntegerLayout` so that each byte position of the lanes is 16 consecutive columns.

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

/// `q8` row · vector (columns in natural order): per 64-column block, byte `m` of the 16 lanes holds
/// columns `16m…16m+15`, so bytes 0–1 and 2–3 each cover one scale group.
@inline(__always)
func dotQ8(_ row: UnsafePointer<UInt8>, scales: UnsafePointer<UInt16>, _ x: PackedVector) -> Float {
    let raw = UnsafeRawPointer(row), xs = UnsafeRawPointer(x.original)
    var total = SIMD16<Float>()
    let blocks = x.count / 64
    for g in 0..<blocks {
        deepseek_prefetch(raw + g * 64 + prefetchDistance)
        let biased = raw.loadUnaligned(fromByteOffset: g * 64, as: SIMD16<UInt32>.self) ^ 0x8080_8080
        let base = g * 256
        var first = widenQ8(biased, byte: 0) * xs.loadUnaligned(fromByteOffset: base, as: SIMD16<Float>.self)
        multiplyAdd(&first, widenQ8(biased, byte: 1), xs.loadUnaligned(fromByteOffset: base + 64, as: SIMD16<Float>.self))
        var second = widenQ8(biased, byte: 2) * xs.loadUnaligned(fromByteOffset: base + 128, as: SIMD16<Float>.self)
        multiplyAdd(&second, widenQ8(biased, byte: 3), xs.loadUnaligned(fromByteOffset: base + 192, as: SIMD16<Float>.self))
        multiplyAdd(&total, first, SIMD16(repeating: halfToFloat(scales[2 * g])))
        multiplyAdd(&total, second, SIMD16(repeating: halfToFloat(scales[2 * g + 1])))
    }
    return horizontalSum(total) + q8Tail(row, scales: scales, x)
}

/// The columns of a `q8` row after its last whole 64-column block, times `x` (stored in order).
@inline(__always)
func q8Tail(_ row: UnsafePointer<UInt8>, scales: UnsafePointer<UInt16>, _ x: PackedVector) -> Float {
    var sum: Float = 0
    for c in (x.count / 64 * 64)..<x.count {
        sum += Float(Int8(bitPattern: row[c])) * halfToFloat(scales[c / WeightFormat.groupSize]) * x.original[c]
    }
    return sum
}

/// `q4` (`offsets` nil) or `q4a` row · vector (columns in natural order): per 128-column block, byte
/// `m` of the 16 lanes holds columns `32m…32m+15` (low nibbles) and `32m+16…32m+31` (high), one scale
/// group. `q4a` also needs the vector's per-group sums (`x.groupSums`) for its offsets.
@inline(__always)
func dotQ4(_ row: UnsafePointer<UInt8>, scales: UnsafePointer<UInt16>, offsets: UnsafePointer<UInt16>?, _ x: PackedVector) -> Float {
    let raw = UnsafeRawPointer(row), xs = UnsafeRawPointer(x.original)
    let blocks = x.count / 128
    // Two inlined copies, so the q4 loop carries no offset test.
    let total = offsets == nil ? q4Blocks(raw, xs, blocks: blocks, scales: scales, offsets: nil)
                               : q4Blocks(raw, xs, blocks: blocks, scales: scales, offsets: offsets)
    return horizontalSum(total) + q4Tail(row, scales: scales, offsets: offsets, x)
}

/// The columns of a `q4`/`q4a` row after its last whole 128-column block, times `x`, with their groups' offsets.
@inline(__always)
func q4Tail(_ row: UnsafePointer<UInt8>, scales: UnsafePointer<UInt16>, offsets: UnsafePointer<UInt16>?, _ x: PackedVector) -> Float {
    let bias: Float = offsets == nil ? 8 : 0
    let blocks = x.count / 128
    var sum: Float = 0
    for c in (blocks * 128)..<x.count {
        let (byte, shift) = IntegerLayout.q4Position(column: c, columns: x.count)
        sum += (Float(row[byte] >> UInt8(shift) & 0xF) - bias) * halfToFloat(scales[c / WeightFormat.groupSize]) * x.original[c]
    }
    if let offsets, let sums = x.groupSums {
        for g in (blocks * 4)..<WeightFormat.groups(columns: x.count) { sum += halfToFloat(offsets[g]) * sums[g] }
    }
    return sum
}

/// The whole 128-column blocks of a `q4`/`q4a` row times `xs`, per lane.
@inline(__always)
func q4Blocks(_ raw: UnsafeRawPointer, _ xs: UnsafeRawPointer, blocks: Int, scales: UnsafePointer<UInt16>,
              offsets: UnsafePointer<UInt16>?) -> SIMD16<Float> {
    let bias: Float = offsets == nil ? 8 : 0
    var total = SIMD16<Float>()
    for g in 0..<blocks {
        deepseek_prefetch(raw + g * 64 + prefetchDistance)
        let lanes = raw.loadUnaligned(fromByteOffset: g * 64, as: SIMD16<UInt32>.self)
        let base = g * 512
        for m in 0..<4 {
            let low = xs.loadUnaligned(fromByteOffset: base + 128 * m, as: SIMD16<Float>.self)
            let high = xs.loadUnaligned(fromByteOffset: base + 128 * m + 64, as: SIMD16<Float>.self)
            var group = widenQ4(lanes, nibble: 2 * m, bias: bias) * low
            multiplyAdd(&group, widenQ4(lanes, nibble: 2 * m + 1, bias: bias), high)
            multiplyAdd(&total, group, SIMD16(repeating: halfToFloat(scales[4 * g + m])))
            // q4a: the offset times the group's activations (n·scale + offset).
            if let offsets { multiplyAdd(&total, low + high, SIMD16(repeating: halfToFloat(offsets[4 * g + m]))) }
        }
    }
    return total
}

/// Where the integer formats keep each column of a row. Whole blocks (64 columns for `q8`, 128 for
/// `q4`/`q4a`, 64 bytes each) are interleaved so that one byte position of 16 `UInt32` lanes holds 16
/// consecutive columns of one scale group; the columns after the last whole block are stored in order
/// (`q8`: one a byte; `q4`: two a byte, the even column in the low nibble).
public enum IntegerLayout {
    /// The byte of a `q8` row holding `column`.
    @inline(__always)
    public static func q8Position(column c: Int, columns: Int) -> Int {
        let whole = columns / 64 * 64
        guard c < whole else { return c }
        let r = c % 64
        return c - r + 4 * (r % 16) + r / 16
    }

    /// The byte of a `q4`/`q4a` row holding `column`, and the shift of its nibble (0 or 4).
    @inline(__always)
    public static func q4Position(column c: Int, columns: Int) -> (byte: Int, shift: Int) {
        let whole = columns / 128 * 128
        guard c < whole else { return (whole / 2 + (c - whole) / 2, 4 * ((c - whole) & 1)) }
        let r = c % 128, m = r / 32, w = r % 32
        return ((c - r) / 2 + 4 * (w % 16) + m, w < 16 ? 0 : 4)
    }
}

extension BlockedMatMul {
    /// Row `row` of a `q8`, `q4` or `q4a` matrix as `Float`, in column order.
    static func widenIntegerRow(_ weight: WeightMatrix, _ row: Int, into target: UnsafeMutablePointer<Float>) {
        let columns = weight.columns, groups = WeightFormat.groups(columns: columns)
        let source = UnsafeRawPointer(weight.data) + row * weight.format.rowBytes(columns: columns)
        let scales = weight.groupScales! + row * groups, offsets = weight.groupOffsets.map { $0 + row * groups }
        let out = UnsafeMutableRawPointer(target)
        let whole: Int
        if weight.format == .q8 {
            whole = columns / 64 * 64
            for g in 0..<(columns / 64) {
                let biased = source.loadUnaligned(fromByteOffset: g * 64, as: SIMD16<UInt32>.self) ^ 0x8080_8080
                for m in 0..<4 {
                    let scale = SIMD16<Float>(repeating: halfToFloat(scales[2 * g + m / 2]))
                    out.storeBytes(of: widenQ8(biased, byte: m) * scale, toByteOffset: g * 256 + m * 64, as: SIMD16<Float>.self)
                }
            }
        } else {
            whole = columns / 128 * 128
            let bias: Float = offsets == nil ? 8 : 0
            for g in 0..<(columns / 128) {
                let lanes = source.loadUnaligned(fromByteOffset: g * 64, as: SIMD16<UInt32>.self)
                for k in 0..<8 {
                    let scale = SIMD16<Float>(repeating: halfToFloat(scales[4 * g + k / 2]))
                    let offset = SIMD16<Float>(repeating: offsets.map { halfToFloat($0[4 * g + k / 2]) } ?? 0)
                    out.storeBytes(of: widenQ4(lanes, nibble: k, bias: bias) * scale + offset, toByteOffset: g * 512 + k * 64, as: SIMD16<Float>.self)
                }
            }
        }
        if whole < columns {
            // The tail after the last whole block.
            let scratch = UnsafeMutablePointer<Float>.allocate(capacity: columns)
            defer { scratch.deallocate() }
            weight.decodeRow(row, into: scratch)
            (target + whole).update(from: scratch + whole, count: columns - whole)
        }
    }
}
