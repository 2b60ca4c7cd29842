import Kernels

/// Whole-tensor conversions from `Float` values to stored bytes.
public enum TensorEncoding {
    /// `values` as little-endian F32, F16 or BF16 bytes (round to nearest even).
    public static func bytes(_ values: [Float], as dtype: DType) throws -> [UInt8] {
        switch dtype {
        case .f32: return values.withUnsafeBytes { Array($0) }
        case .bf16: return values.map(NumberFormats.bf16).withUnsafeBytes { Array($0) }
        case .f16: return values.map(NumberFormats.f16).withUnsafeBytes { Array($0) }
        default: throw TensorsError.unsupportedConversion(tensor: "", dtype: dtype, detail: "not a plain float format")
        }
    }

    /// FP8 E4M3 with one scale per `blockRows × blockColumns` block (partial at the edges): each block is
    /// divided by `max|x| / 448` so its largest value maps to FP8's largest, as DeepSeek's release is stored.
    ///
    /// - Returns: the FP8 bytes `[rows, columns]` and the scales `[ceil(rows/blockRows), ceil(columns/blockColumns)]`
    ///   (the `weight_scale_inv` that multiplies back).
    public static func fp8Blocks(_ values: [Float], rows: Int, columns: Int, blockRows: Int = 128,
                                 blockColumns: Int = 128) -> (data: [UInt8], scales: [Float]) {
        precondition(values.count == rows * columns, "fp8Blocks: \(values.count) values for \(rows)×\(columns)")
        let gridRows = (rows + blockRows - 1) / blockRows, gridColumns = (columns + blockColumns - 1) / blockColumns
        var scales = [Float](repeating: 1, count: gridRows * gridColumns)
        var data = [UInt8](repeating: 0, count: rows * columns)
        for br in 0..<gridRows {
            for bc in 0..<gridColumns {
                let rowRange = (br * blockRows)..<min((br + 1) * blockRows, rows)
                let columnRange = (bc * blockColumns)..<min((bc + 1) * blockColumns, columns)
                var largest: Float = 0
                for r in rowRange { for c in columnRange { largest = max(largest, abs(values[r * columns + c])) } }
                let scale = largest > 0 ? largest / 448 : 1
                scales[br * gridColumns + bc] = scale
                for r in rowRange { for c in columnRange { data[r * columns + c] = NumberFormats.fp8E4M3(values[r * columns + c] / scale) } }
            }
        }
        return (data, scales)
    }
}
