import Foundation
import JSON
import Kernels
import Tensors

/// Writes a checkpoint of random weights for any config, so benchmarks and tests need no download.
///
/// Linear, router, embedding and head weights are normal with standard deviation
/// `initializer_range` (0.02 by default, as transformers initialises); norms are 1; biases and the
/// routing bias are 0. Values come from per-tensor, per-chunk seeded streams, so the same seed gives
/// the same file whatever the thread count.
public enum RandomCheckpoint {
    /// Writes `config.json` (the given one, with `torch_dtype` and the recipe's `quantization_config`) and
    /// the weights into `directory`, creating it. Matrices take `format` (embedding, head and router as
    /// `QuantizationRecipe` keeps them); norms and biases are stored in the float format the recipe keeps.
    public static func write(configJSON: Data, to directory: String, format: StorageFormat, seed: UInt64) throws {
        let config = try ModelConfig.decode(configJSON)
        guard var object = try JSONValue.parse(configJSON).objectValue else {
            throw ModelError.invalidConfig(path: "config.json", key: "(file)", detail: "not a JSON object")
        }
        let recipe = try QuantizationRecipe(format: format)
        let std = Float(object["initializer_range"]?.doubleValue ?? 0.02)
        let vectorFormat = recipe.formats[.embedding]!
        object["torch_dtype"] = .string(vectorFormat == .f32 ? "float32" : vectorFormat == .f16 ? "float16" : "bfloat16")
        object["quantization_config"] = recipe.configEntry
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)

        let parameters = ParameterLayout.parameters(config).enumerated().map { index, spec in
            let stored = recipe.format(for: spec) ?? (spec.role == .routerBias ? .f32 : vectorFormat)
            let rows = spec.shape[0], columns = spec.shape.count == 2 ? spec.shape[1] : 1
            var entries = stored.entries(name: spec.name, rows: rows, columns: columns)
            if spec.shape.count == 1 { entries = [.init(name: spec.name, dtype: entries[0].dtype, shape: spec.shape)] }
            return CheckpointWriter.Parameter(entries: entries) {
                try stored.encode(initialValues(spec, std: std, seed: seed, index: index), rows: rows, columns: columns)
            }
        }
        try CheckpointWriter.write(parameters, to: directory)
        try Data(JSONValue.object(object).serialized(pythonSeparators: true, indent: 2).utf8)
            .write(to: URL(fileURLWithPath: directory).appendingPathComponent("config.json"))
    }

    /// The starting values of parameter number `index` of a layout: normal with standard deviation `std`
    /// for matrices, 1 for norms, 0 for biases.
    public static func initialValues(_ spec: ParameterSpec, std: Float, seed: UInt64, index: Int) -> [Float] {
        switch spec.role {
        case .norm: return [Float](repeating: 1, count: spec.elementCount)
        case .bias, .routerBias: return [Float](repeating: 0, count: spec.elementCount)
        case .linear, .router, .embedding, .head:
            return RandomSource.gaussian(count: spec.elementCount, std: std, seed: seed &* 0x9E37_79B9_7F4A_7C15 &+ UInt64(index))
        }
    }
}
