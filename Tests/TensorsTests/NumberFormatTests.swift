import Kernels
import Testing

/// Scalar format conversions against their definitions.
@Suite struct NumberFormatTests {
    @Test func fp8E4M3DecodesEveryPattern() {
        #expect(NumberFormats.float(fp8E4M3: 0x00) == 0)
        #expect(NumberFormats.float(fp8E4M3: 0x38) == 1)          // exponent 7, mantissa 0
        #expect(NumberFormats.float(fp8E4M3: 0x7E) == 448)        // largest finite
        #expect(NumberFormats.float(fp8E4M3: 0xFE) == -448)
        #expect(NumberFormats.float(fp8E4M3: 0x01) == 0x1p-9)     // smallest subnormal
        #expect(NumberFormats.float(fp8E4M3: 0x7F).isNaN)
        #expect(NumberFormats.float(fp8E4M3: 0xFF).isNaN)
    }

    @Test func fp8E4M3RoundTripsEveryFiniteValue() {
        for bits in 0..<256 where bits & 0x7F != 0x7F {
            let value = NumberFormats.float(fp8E4M3: UInt8(bits))
            let back = NumberFormats.fp8E4M3(value)
            #expect(NumberFormats.float(fp8E4M3: back) == value, "pattern \(bits)")
        }
        #expect(NumberFormats.float(fp8E4M3: NumberFormats.fp8E4M3(1000)) == 448)
    }

    @Test func bf16RoundsToNearestEven() {
        #expect(NumberFormats.float(bf16: NumberFormats.bf16(1)) == 1)
        #expect(NumberFormats.bf16(Float(bitPattern: 0x3F80_8000)) == 0x3F80)  // tie → even
        #expect(NumberFormats.bf16(Float(bitPattern: 0x3F81_8000)) == 0x3F82)  // tie → even (up)
        #expect(NumberFormats.bf16(Float(bitPattern: 0x3F80_8001)) == 0x3F81)
    }

    @Test func f16RoundTripsAndHandlesSubnormals() {
        for value: Float in [0, 1, -2.5, 65504, 0x1p-24, 0x1p-14, 3.140625] {
            #expect(NumberFormats.float(f16: NumberFormats.f16(value)) == value)
        }
        #expect(NumberFormats.float(f16: 0x7C00) == .infinity)
    }
}
