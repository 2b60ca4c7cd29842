import Kernels
import Tensors

/// Reads parameters of a checkpoint as `Float`, whatever format they are stored in (F32, F16, BF16, FP8
/// with block scales, or the integer formats): what training and fine-tuning start from.
public struct ParameterReader {
    let loader: WeightLoader

    /// Opens `directory`'s weights for `config`.
    public init(directory: String, config: ModelConfig) throws {
        let checkpoint = try mappingTensorErrors { try Checkpoint(directory: directory, residency: .mapped) }
        self.init(checkpoint: checkpoint, config: config)
    }

    /// Reads `checkpoint`'s weights for `config`.
    public init(checkpoint: Checkpoint, config: ModelConfig) {
        loader = WeightLoader(checkpoint: checkpoint, config: config, mapped: true)
    }

    /// Whether the checkpoint holds a tensor named `name`.
    public func contains(_ name: String) -> Bool { loader.checkpoint.contains(name) }

    /// The values of `spec`, row-major, checked against its shape.
    public func values(_ spec: ParameterSpec) throws -> [Float] {
        switch spec.shape.count {
        case 1: return try loader.vector(spec.name, count: spec.shape[0])
        case 2: return try loader.matrix(spec).0.dequantized()
        default: throw ModelError.shapeMismatch(tensor: spec.name, expected: spec.shape, actual: spec.shape)
        }
    }
}
