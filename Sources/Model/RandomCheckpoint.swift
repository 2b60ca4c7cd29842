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
    /// How weights are stored.
    public enum Format: String, Sendable, CaseIterable {
        case f32, f16, bf16
        /// FP8 E4M3 linear weights with 128×128 block scales, everything else BF16 (the official layout).
        case fp8
    }

    /// Writes `config.json` (the given one, with `torch_dtype` and, for FP8, `quantization_config`) and
    /// `model.safetensors` into `directory`, creating it.
    public static func write(configJSON: Data, to directory: String, format: Format, seed: UInt64) throws {
        let config = try ModelConfig.decode(configJSON)
        guard var object = try JSONValue.parse(configJSON).objectValue else {
            throw ModelError.invalidConfig(path: "config.json", key: "(file)", detail: "not a JSON object")
        }
        let std = Float(object["initializer_range"]?.doubleValue ?? 0.02)
        object["torch_dtype"] = .string(format == .f32 ? "float32" : format == .f16 ? "float16" : "bfloat16")
        object["quantization_config"] = format == .fp8 ? .object(JSONObject([
            ("activation_scheme", .string("dynamic")), ("fmt", .string("e4m3")), ("quant_method", .string("fp8")),
            ("weight_block_size", .array([.int(128), .int(128)])),
        ])) : nil
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let base = URL(fileURLWithPath: directory)

        let specs = ParameterLayout.parameters(config)
        var entries: [SafetensorsWriter.Entry] = []
        var sources: [(spec: ParameterSpec, index: Int, part: Part)] = []
        for (index, spec) in specs.enumerated() {
            let dtype = storedType(spec, format)
            entries.append(.init(name: spec.name, dtype: dtype, shape: spec.shape))
            sources.append((spec, index, .values(dtype)))
            if dtype == .f8E4M3 {
                let grid = [(spec.shape[0] + 127) / 128, (spec.shape[1] + 127) / 128]
                entries.append(.init(name: TensorNames.scaleName(of: spec.name), dtype: .f32, shape: grid))
                sources.append((spec, index, .scales))
            }
        }
        var pendingScales: [Float] = []
        try SafetensorsWriter.write(entries: entries, metadata: ["format": "pt"], to: base.appendingPathComponent("model.safetensors").path) { i in
            let (spec, index, part) = sources[i]
            switch part {
            case .scales:
                return pendingScales.withUnsafeBytes { Array($0) }
            case let .values(dtype):
                let values = initialValues(spec, std: std, seed: seed, index: index)
                if dtype == .f8E4M3 {
                    let (data, scales) = quantizeFP8Blocks(values, rows: spec.shape[0], columns: spec.shape[1])
                    pendingScales = scales
                    return data
                }
                return try TensorEncoding.bytes(values, as: dtype)
            }
        }
        try Data(JSONValue.object(object).serialized(pythonSeparators: true, indent: 2).utf8)
            .write(to: base.appendingPathComponent("config.json"))
    }

    private enum Part { case values(DType), scales }

    static func storedType(_ spec: ParameterSpec, _ format: Format) -> DType {
        if spec.role == .routerBias { return .f32 }
        switch format {
        case .f32: return .f32
        case .f16: return .f16
        case .bf16: return .bf16
        case .fp8: return spec.role == .linear ? .f8E4M3 : .bf16
        }
    }

    static func initialValues(_ spec: ParameterSpec, std: Float, seed: UInt64, index: Int) -> [Float] {
        switch spec.role {
        case .norm: return [Float](repeating: 1, count: spec.elementCount)
        case .bias, .routerBias: return [Float](repeating: 0, count: spec.elementCount)
        case .linear, .router, .embedding, .head:
            return RandomSource.gaussian(count: spec.elementCount, std: std, seed: seed &* 0x9E37_79B9_7F4A_7C15 &+ UInt64(index))
        }
    }
}
