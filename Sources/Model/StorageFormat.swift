import Kernels
import Tensors

/// How a checkpoint stores one weight matrix, as `deepseek init` and `deepseek quantize` write it.
///
/// The integer formats are this project's layout (documented in the README): the `.weight` tensor
/// holds the codes, `.weight_scales` the F16 scale of every 32 columns, and for `q4a` `.weight_offsets`
/// the F16 offset. FP8 is the official DeepSeek layout: E4M3 codes and an F32 `weight_scale_inv` per
/// 128×128 block.
public enum StorageFormat: String, Sendable, CaseIterable {
    case f32, f16, bf16, fp8, q8, q4, q4a

    /// Side of FP8's square scale blocks.
    public static let fp8Block = 128

    /// The tensors storing a `[rows, columns]` weight called `name`, in write order.
    public func entries(name: String, rows: Int, columns: Int) -> [SafetensorsWriter.Entry] {
        let groups = [rows, WeightFormat.groups(columns: columns)]
        switch self {
        case .f32: return [.init(name: name, dtype: .f32, shape: [rows, columns])]
        case .f16: return [.init(name: name, dtype: .f16, shape: [rows, columns])]
        case .bf16: return [.init(name: name, dtype: .bf16, shape: [rows, columns])]
        case .fp8:
            let block = Self.fp8Block
            return [.init(name: name, dtype: .f8E4M3, shape: [rows, columns]),
                    .init(name: TensorNames.scaleName(of: name), dtype: .f32, shape: [(rows + block - 1) / block, (columns + block - 1) / block])]
        case .q8:
            return [.init(name: name, dtype: .i8, shape: [rows, columns]),
                    .init(name: TensorNames.groupScaleName(of: name), dtype: .f16, shape: groups)]
        case .q4, .q4a:
            return [.init(name: name, dtype: .u8, shape: [rows, (columns + 1) / 2]),
                    .init(name: TensorNames.groupScaleName(of: name), dtype: .f16, shape: groups)]
                + (self == .q4a ? [.init(name: TensorNames.groupOffsetName(of: name), dtype: .f16, shape: groups)] : [])
        }
    }

    /// `values` (`[rows, columns]`) encoded: the bytes of each of `entries(…)`, in the same order.
    public func encode(_ values: [Float], rows: Int, columns: Int) throws -> [[UInt8]] {
        switch self {
        case .f32, .f16, .bf16:
            return [try TensorEncoding.bytes(values, as: entries(name: "", rows: rows, columns: columns)[0].dtype)]
        case .fp8:
            let (data, scales) = quantizeFP8Blocks(values, rows: rows, columns: columns, blockRows: Self.fp8Block, blockColumns: Self.fp8Block)
            return [data, scales.withUnsafeBytes { Array($0) }]
        case .q8, .q4, .q4a:
            let encoded = quantizeGroups(values, rows: rows, columns: columns, format: weightFormat)
            return [encoded.data, encoded.scales.withUnsafeBytes { Array($0) }]
                + (self == .q4a ? [encoded.offsets.withUnsafeBytes { Array($0) }] : [])
        }
    }

    /// The kernel format of the integer formats.
    private var weightFormat: WeightFormat {
        switch self {
        case .q8: .q8
        case .q4: .q4
        case .q4a: .q4a
        default: .f32
        }
    }
}
