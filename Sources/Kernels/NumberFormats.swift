/// Scalar conversions between the storage formats of checkpoint tensors and `Float`.
///
/// BF16 is the top half of an IEEE binary32; F16 is IEEE binary16; FP8 E4M3 is the
/// "fn" variant used by DeepSeek-V3 (no infinities, 0x7F/0xFF are NaN, largest finite 448).
public enum NumberFormats {
    /// Widens a BF16 bit pattern to `Float` (exact).
    @inline(__always)
    public static func float(bf16 bits: UInt16) -> Float {
        Float(bitPattern: UInt32(bits) << 16)
    }

    /// Narrows a `Float` to BF16 with round-to-nearest-even, as PyTorch does; NaN stays NaN.
    @inline(__always)
    public static func bf16(_ value: Float) -> UInt16 {
        let bits = value.bitPattern
        if value.isNaN { return UInt16(truncatingIfNeeded: (bits >> 16) | 0x40) }
        let rounding = UInt32(0x7FFF) + ((bits >> 16) & 1)
        return UInt16(truncatingIfNeeded: (bits &+ rounding) >> 16)
    }

    /// Widens an IEEE binary16 bit pattern to `Float` (exact).
    @inline(__always)
    public static func float(f16 bits: UInt16) -> Float {
        let sign = UInt32(bits & 0x8000) << 16
        let exponent = Int(bits >> 10) & 0x1F
        let mantissa = UInt32(bits & 0x3FF)
        if exponent == 0 {
            // Zero or subnormal: mantissa × 2^-24.
            let magnitude = Float(mantissa) * 0x1p-24
            return sign == 0 ? magnitude : -magnitude
        }
        if exponent == 0x1F {
            return Float(bitPattern: sign | 0x7F80_0000 | (mantissa << 13))
        }
        return Float(bitPattern: sign | UInt32(exponent + 112) << 23 | (mantissa << 13))
    }

    /// Narrows a `Float` to IEEE binary16 with round-to-nearest-even.
    public static func f16(_ value: Float) -> UInt16 {
        let bits = value.bitPattern
        let sign = UInt16(truncatingIfNeeded: (bits >> 16) & 0x8000)
        let exponent = Int((bits >> 23) & 0xFF)
        let mantissa = bits & 0x7F_FFFF
        if exponent == 0xFF { return sign | 0x7C00 | (mantissa == 0 ? 0 : 0x200) }
        let unbiased = exponent - 127
        if unbiased > 15 { return sign | 0x7C00 }
        if unbiased >= -14 {
            var half = UInt32(unbiased + 15) << 10 | (mantissa >> 13)
            let rest = mantissa & 0x1FFF
            if rest > 0x1000 || (rest == 0x1000 && (half & 1) == 1) { half += 1 }
            return sign | UInt16(truncatingIfNeeded: half)
        }
        // Subnormal half: value / 2^-24 rounded to nearest even.
        let scaled = abs(value) * 0x1p24
        let rounded = scaled.rounded(.toNearestOrEven)
        return sign | UInt16(min(rounded, 1024))
    }

    /// The 256 values of FP8 E4M3 (fn), indexed by bit pattern.
    public static let fp8E4M3Table: [Float] = (0..<256).map { decodeFP8E4M3(UInt8($0)) }

    /// Widens an FP8 E4M3 (fn) bit pattern to `Float` (exact).
    @inline(__always)
    public static func float(fp8E4M3 bits: UInt8) -> Float {
        fp8E4M3Table[Int(bits)]
    }

    /// Narrows a `Float` to FP8 E4M3 (fn) with round-to-nearest-even, saturating at ±448.
    public static func fp8E4M3(_ value: Float) -> UInt8 {
        if value.isNaN { return 0x7F }
        let sign: UInt8 = value.sign == .minus ? 0x80 : 0
        let magnitude = min(abs(value), 448)
        // Subnormals are multiples of 2^-9; normals have 3 mantissa bits.
        if magnitude < 0x1p-6 {
            let steps = (magnitude * 0x1p9).rounded(.toNearestOrEven)
            return sign | UInt8(steps)  // 8 steps rolls over into the smallest normal, which is correct.
        }
        let exponent = Int(magnitude.exponent)  // floor(log2)
        let step = Float(sign: .plus, exponent: exponent - 3, significand: 1)
        var quantized = (magnitude / step).rounded(.toNearestOrEven) * step
        quantized = min(quantized, 448)
        let e = Int(quantized.exponent)
        let m = Int((quantized / Float(sign: .plus, exponent: e - 3, significand: 1)).rounded()) - 8
        return sign | UInt8((e + 7) << 3 | m)
    }

    private static func decodeFP8E4M3(_ bits: UInt8) -> Float {
        let negative = bits & 0x80 != 0
        let exponent = Int(bits >> 3) & 0xF
        let mantissa = Int(bits & 0x7)
        let magnitude: Float
        if exponent == 0xF && mantissa == 0x7 {
            return .nan
        } else if exponent == 0 {
            magnitude = Float(mantissa) * 0x1p-9
        } else {
            magnitude = (1 + Float(mantissa) / 8) * Float(sign: .plus, exponent: exponent - 7, significand: 1)
        }
        return negative ? -magnitude : magnitude
    }
}
