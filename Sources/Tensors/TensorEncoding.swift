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
}
