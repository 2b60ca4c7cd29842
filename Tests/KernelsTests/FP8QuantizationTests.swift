import Testing
@testable import Kernels

@Suite struct FP8QuantizationTests {
    /// Partial edge blocks get their own scale, each block's largest magnitude maps to ±448, an all-zero
    /// block keeps scale 1, and dequantised values are within half an FP8 step of the originals.
    @Test func blocksScaleAndRoundTrip() {
        let rows = 5, columns = 7
        var values = (0..<(rows * columns)).map { Float($0 % 11) - 5 }
        for c in 4..<7 { for r in 3..<5 { values[r * columns + c] = 0 } }  // the bottom-right block is zero
        let (data, scales) = quantizeFP8Blocks(values, rows: rows, columns: columns, blockRows: 3, blockColumns: 4)
        #expect(scales.count == 2 * 2)
        #expect(scales[3] == 1)
        for br in 0..<2 {
            for bc in 0..<2 {
                var largest: Float = 0
                for r in (br * 3)..<min(br * 3 + 3, rows) { for c in (bc * 4)..<min(bc * 4 + 4, columns) {
                    largest = max(largest, abs(values[r * columns + c]))
                } }
                if largest > 0 { #expect(scales[br * 2 + bc] == largest / 448) }
            }
        }
        for r in 0..<rows {
            for c in 0..<columns {
                let scale = scales[(r / 3) * 2 + c / 4]
                let back = NumberFormats.float(fp8E4M3: data[r * columns + c]) * scale
                let original = values[r * columns + c]
                // E4M3 has 3 mantissa bits: relative step 2^-3, so the error is at most 2^-4 of the magnitude
                // (or half the subnormal step 2^-10 × scale).
                #expect(abs(back - original) <= max(abs(original) / 16, scale * 0x1p-10) * 1.0001, "(\(r), \(c))")
            }
        }
    }
}

@Suite struct MachineProbeTests {
    /// After a large buffer is freed, resetting the peak leaves it out of the count (Linux).
    @Test func peakResidentResetsAfterAFreedBuffer() throws {
        #if os(Linux)
        let bytes = 400 << 20
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 4096)
        for offset in Swift.stride(from: 0, to: bytes, by: 4096) { buffer.storeBytes(of: 1, toByteOffset: offset, as: UInt8.self) }
        let withBuffer = MachineProbe.peakResidentBytes()
        buffer.deallocate()
        #expect(MachineProbe.resetPeakResident())
        let after = MachineProbe.peakResidentBytes()
        #expect(after < withBuffer - (200 << 20), "peak \(withBuffer) before the reset, \(after) after")
        #endif
    }
}
