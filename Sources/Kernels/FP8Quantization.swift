/// FP8 E4M3 with one scale per `blockRows × blockColumns` block (partial at the edges): each block is
/// divided by `max|x| / 448`, so its largest value maps to FP8's largest, as DeepSeek's release stores
/// weights. Block rows are encoded in parallel.
///
/// - Parameter values: `[rows, columns]`.
/// - Returns: the FP8 bytes `[rows, columns]` and the scales `[ceil(rows/blockRows), ceil(columns/blockColumns)]`
///   (the `weight_scale_inv` that multiplies back).
public func quantizeFP8Blocks(_ values: [Float], rows: Int, columns: Int, blockRows: Int = 128,
                              blockColumns: Int = 128) -> (data: [UInt8], scales: [Float]) {
    precondition(values.count == rows * columns, "quantizeFP8Blocks: \(values.count) values for \(rows)×\(columns)")
    let gridRows = (rows + blockRows - 1) / blockRows, gridColumns = (columns + blockColumns - 1) / blockColumns
    var scales = [Float](repeating: 1, count: gridRows * gridColumns)
    var data = [UInt8](repeating: 0, count: rows * columns)
    values.withUnsafeBufferPointer { source in
        scales.withUnsafeMutableBufferPointer { scaleBuffer in
            data.withUnsafeMutableBufferPointer { dataBuffer in
                let x = source.baseAddress!, s = scaleBuffer.baseAddress!, q = dataBuffer.baseAddress!
                ThreadPool.parallelFor(gridRows) { blockRowRange in
                    for br in blockRowRange {
                        for bc in 0..<gridColumns {
                            let rowRange = (br * blockRows)..<min((br + 1) * blockRows, rows)
                            let columnRange = (bc * blockColumns)..<min((bc + 1) * blockColumns, columns)
                            var largest: Float = 0
                            for r in rowRange { for c in columnRange { largest = max(largest, abs(x[r * columns + c])) } }
                            let scale = largest > 0 ? largest / 448 : 1
                            s[br * gridColumns + bc] = scale
                            for r in rowRange { for c in columnRange { q[r * columns + c] = NumberFormats.fp8E4M3(x[r * columns + c] / scale) } }
                        }
                    }
                }
            }
        }
    }
    return (data, scales)
}
