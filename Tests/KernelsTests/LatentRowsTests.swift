import Foundation
import Testing
@testable import Kernels

/// Rows of a paged latent cache: INT8 rows round to within half a step of their group's scale, and
/// attention over pages (scattered by a block table, `Float` or INT8) equals attention over the same rows
/// laid out contiguously.
@Suite(.serialized) struct LatentRowsTests {
    /// Rows stored in pages of `pageRows`, the pages in the order of `table` (a permutation with gaps).
    final class Pages {
        let storage: UnsafeMutableRawPointer
        let pageBytes: Int, pageRows: Int, width: Int
        let table: [Int]
        let int8: Int8LatentLayout?

        init(rows values: [Float], width: Int, pageRows: Int, int8: Int8LatentLayout?) {
            let rows = values.count / width, pages = (rows + pageRows - 1) / pageRows
            self.width = width
            self.pageRows = pageRows
            self.int8 = int8
            pageBytes = pageRows * (int8?.rowBytes ?? width * 4)
            // Page i of the sequence is stored at 2·(pages − i) − 1: reversed, every other slot empty.
            table = (0..<pages).map { 2 * (pages - $0) - 1 }
            storage = .allocate(byteCount: (2 * pages + 1) * pageBytes, alignment: 64)
            storage.initializeMemory(as: UInt8.self, repeating: 0xFF, count: (2 * pages + 1) * pageBytes)
            for r in 0..<rows {
                let row = storage + table[r / pageRows] * pageBytes + (r % pageRows) * (int8?.rowBytes ?? width * 4)
                values.withUnsafeBufferPointer { v in
                    if let int8 {
                        int8.quantize(v.baseAddress! + r * width, into: row)
                    } else {
                        row.copyMemory(from: v.baseAddress! + r * width, byteCount: width * 4)
                    }
                }
            }
        }

        deinit { storage.deallocate() }

        func withRows<R>(_ body: (LatentRows) -> R) -> R {
            table.withUnsafeBufferPointer {
                body(LatentRows(pages: storage, pageRows: pageRows, pageBytes: pageBytes, table: $0.baseAddress!, width: width, int8: int8))
            }
        }
    }

    @Test(arguments: [[512, 64], [40, 8], [64], [3], [130, 70]])
    func int8RowsRoundWithinHalfAStep(parts: [Int]) {
        let layout = Int8LatentLayout(parts: parts)
        #expect(layout.width == parts.reduce(0, +))
        let rows = 5
        var values = ActivationQuantizationTests.values(rows * layout.width, seed: 11).enumerated().map { i, v in v * Float(1 + i % 7) }
        values[3] = 0; values[4] = -2e-30
        let pages = Pages(rows: values, width: layout.width, pageRows: 2, int8: layout)
        let restored = pages.withRows { rows in
            var out = [Float](repeating: .nan, count: values.count)
            out.withUnsafeMutableBufferPointer { rows.copy(rows: 0..<5, into: $0.baseAddress!) }
            return out
        }
        for r in 0..<rows {
            for g in 0..<layout.groups {
                let range = (r * layout.width + layout.bounds[g])..<(r * layout.width + layout.bounds[g + 1])
                let step = values[range].map(abs).max()! / 127
                let worst = range.map { abs(restored[$0] - values[$0]) }.max()!
                #expect(worst <= step * 0.5001, "parts \(parts) row \(r) group \(g): error \(worst) for a step of \(step)")
            }
        }
        // Every group of a part starts at a multiple of 32 from the part's start.
        #expect(layout.groups == parts.map { ($0 + 31) / 32 }.reduce(0, +))
    }

    /// Attention over `Float` pages of 128 rows scattered by a table is bit-identical to contiguous rows (the
    /// key blocks fall at the same places); INT8 pages equal their dequantized rows laid out contiguously;
    /// pages of 5 rows (blocks cut at every page) agree to rounding. Decoding (one token, split keys) and a
    /// 9-token chunk, with 1 and 2 threads.
    @Test(arguments: [(1, 2100), (9, 300), (1, 200)], [1, 2])
    func pagedAttentionMatchesContiguousRows(shape: (tokens: Int, cached: Int), threads: Int) {
        let saved = ThreadPool.threads
        ThreadPool.threads = threads
        defer { ThreadPool.threads = saved }
        let s = LatentAttentionShape(heads: 3, qkNopeDim: 16, qkRopeDim: 64, vHeadDim: 12, kvLoraRank: 128)
        let positions = shape.cached + shape.tokens
        let (query, cache, kvBValues) = AttentionKernelTests.latentInputs(s, tokens: shape.tokens, positions: positions)
        kvBValues.withUnsafeBytes { bytes in
            let kvB = WeightMatrix(rows: s.heads * s.kvBRowsPerHead, columns: s.kvLoraRank, format: .f32, data: bytes.baseAddress!)
            let keys = AbsorbedKeys(kvB: kvB, shape: s)
            func attention(_ rows: LatentRows) -> [Float] {
                latentAttention(query: query, cache: rows, kvB: kvB, keys: keys, shape: s, tokens: shape.tokens,
                                firstQueryPosition: shape.cached, scale: 0.3)
            }
            func contiguous(_ values: [Float]) -> [Float] {
                values.withUnsafeBufferPointer { attention(LatentRows(contiguous: $0.baseAddress!, width: s.latentWidth)) }
            }
            let expected = contiguous(cache)
            #expect(Pages(rows: cache, width: s.latentWidth, pageRows: 128, int8: nil).withRows(attention) == expected)
            let small = Pages(rows: cache, width: s.latentWidth, pageRows: 5, int8: nil).withRows(attention)
            #expect(zip(small, expected).map { abs($0 - $1) }.max()! < 1e-5)

            let layout = Int8LatentLayout(parts: [s.kvLoraRank, s.qkRopeDim])
            let int8 = Pages(rows: cache, width: s.latentWidth, pageRows: 128, int8: layout)
            let dequantized = int8.withRows { rows in
                var out = [Float](repeating: 0, count: cache.count)
                out.withUnsafeMutableBufferPointer { rows.copy(rows: 0..<positions, into: $0.baseAddress!) }
                return out
            }
            #expect(int8.withRows(attention) == contiguous(dequantized))
            #expect(zip(dequantized, cache).map { abs($0 - $1) }.max()! < 1.0 / 127)
        }
    }
}
