import Kernels
import Tensors

/// Builds layers from checkpoint tensors, checking every shape against the config.
struct WeightLoader {
    let checkpoint: Checkpoint
    let config: ModelConfig
    /// Whether tensors stay views of the mapped files even when the checkpoint is resident.
    var mapped = false

    func tensor(_ name: String) throws -> Tensor {
        try mappingTensorErrors { try checkpoint.tensor(name, mapped: mapped) }
    }

    /// This loader for tensors read a few rows at a time (see `Checkpoint.tensor(_:mapped:)`).
    var forRowLookups: WeightLoader {
        var loader = self
        loader.mapped = true
        return loader
    }

    private func expectShape(_ tensor: Tensor, _ expected: [Int]) throws {
        guard tensor.shape == expected else {
            throw ModelError.shapeMismatch(tensor: tensor.name, expected: expected, actual: tensor.shape)
        }
    }

    /// A `[count]` vector widened to `Float` (norm scales, biases).
    func vector(_ name: String, count: Int) throws -> [Float] {
        let t = try tensor(name)
        try expectShape(t, [count])
        guard t.dtype.isFloatingPoint else { throw ModelError.unsupportedDType(tensor: name, dtype: t.dtype.rawValue) }
        return try mappingTensorErrors { try t.floats() }
    }

    func rmsNorm(_ spec: ParameterSpec) throws -> RMSNorm {
        RMSNorm(weight: try vector(spec.name, count: spec.shape[0]), epsilon: config.rmsNormEps)
    }

    /// The weight of `spec` in place, in its stored format.
    func matrix(_ spec: ParameterSpec) throws -> (WeightMatrix, [Tensor]) {
        try matrix(spec.name, rows: spec.shape[0], columns: spec.shape[1])
    }

    /// A `[rows, columns]` weight in place, with its FP8 block scales or integer group scales when it has them.
    func matrix(_ name: String, rows: Int, columns: Int) throws -> (WeightMatrix, [Tensor]) {
        let t = try tensor(name)
        if t.dtype == .i8 || t.dtype == .u8 { return try integerMatrix(t, rows: rows, columns: columns) }
        try expectShape(t, [rows, columns])
        switch t.dtype {
        case .f32: return (WeightMatrix(rows: rows, columns: columns, format: .f32, data: t.baseAddress), [t])
        case .bf16: return (WeightMatrix(rows: rows, columns: columns, format: .bf16, data: t.baseAddress), [t])
        case .f16: return (WeightMatrix(rows: rows, columns: columns, format: .f16, data: t.baseAddress), [t])
        case .f64:
            let widened = Tensor(name: name, shape: t.shape, floats: try mappingTensorErrors { try t.floats() })
            return (WeightMatrix(rows: rows, columns: columns, format: .f32, data: widened.baseAddress), [widened])
        case .f8E4M3:
            return try fp8Matrix(t, rows: rows, columns: columns)
        default:
            throw ModelError.unsupportedDType(tensor: name, dtype: t.dtype.rawValue)
        }
    }

    /// FP8 E4M3 with a `ceil(rows/128) × ceil(columns/128)` grid of F32 scales (`weight_scale_inv`).
    private func fp8Matrix(_ t: Tensor, rows: Int, columns: Int) throws -> (WeightMatrix, [Tensor]) {
        let block = config.quantization ?? QuantizationConfig(blockRows: 128, blockColumns: 128)
        var scales = try tensor(TensorNames.scaleName(of: t.name)).aligned()
        let grid = [(rows + block.blockRows - 1) / block.blockRows, (columns + block.blockColumns - 1) / block.blockColumns]
        try expectShape(scales, grid)
        switch scales.dtype {
        case .f32: break
        case .bf16, .f16, .f64: scales = Tensor(name: scales.name, shape: grid, floats: try mappingTensorErrors { try scales.floats() })
        default: throw ModelError.unsupportedDType(tensor: scales.name, dtype: scales.dtype.rawValue)
        }
        let matrix = WeightMatrix(
            rows: rows, columns: columns, format: .fp8E4M3(blockRows: block.blockRows, blockColumns: block.blockColumns),
            data: t.baseAddress, scales: scales.baseAddress.assumingMemoryBound(to: Float.self))
        return (matrix, [t, scales])
    }

    /// `q8` (I8 `[rows, columns]`) or `q4`/`q4a` (U8 `[rows, ceil(columns / 2)]`, two nibbles a byte), with
    /// F16 scales per group of 32 columns and, for `q4a`, F16 offsets (see the README's quantized layout).
    private func integerMatrix(_ t: Tensor, rows: Int, columns: Int) throws -> (WeightMatrix, [Tensor]) {
        let hasOffsets = checkpoint.entry(TensorNames.groupOffsetName(of: t.name)) != nil
        let format: WeightFormat = t.dtype == .i8 ? .q8 : hasOffsets ? .q4a : .q4
        try expectShape(t, [rows, format.rowBytes(columns: columns)])
        let groupShape = [rows, WeightFormat.groups(columns: columns)]
        var owners = [t]
        for name in [TensorNames.groupScaleName(of: t.name)] + (hasOffsets ? [TensorNames.groupOffsetName(of: t.name)] : []) {
            let companion = try tensor(name).aligned()
            try expectShape(companion, groupShape)
            guard companion.dtype == .f16 else { throw ModelError.unsupportedDType(tensor: name, dtype: companion.dtype.rawValue) }
            owners.append(companion)
        }
        let matrix = WeightMatrix(
            rows: rows, columns: columns, format: format, data: t.baseAddress,
            groupScales: owners[1].baseAddress.assumingMemoryBound(to: UInt16.self),
            groupOffsets: hasOffsets ? owners[2].baseAddress.assumingMemoryBound(to: UInt16.self) : nil)
        return (matrix, owners)
    }

    /// A linear layer from its weight spec, with a bias when `bias` is given.
    func linear(_ spec: ParameterSpec, bias: ParameterSpec? = nil) throws -> Linear {
        let (matrix, owners) = try matrix(spec)
        let vector = try bias.map { try self.vector($0.name, count: $0.shape[0]) }
        return Linear(weight: matrix, bias: vector, owners: owners)
    }
}
