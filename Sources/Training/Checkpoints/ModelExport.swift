import Foundation
import JSON
import Model
import Tensors

/// Writes parameters as an ordinary Hugging Face checkpoint folder — `config.json`, `model.safetensors`
/// (sharded past 5 GB) and the tokenizer's files — that `deepseek generate` and transformers both load.
///
/// The MTP modules are stored as layers after the main ones, with the copies of the embedding and head the
/// released checkpoints carry for each.
public enum ModelExport {
    /// The tokenizer files copied beside the weights when the source folder has them.
    public static let tokenizerFiles = ["tokenizer.json", "tokenizer_config.json"]

    /// Writes `parameters` (and their config) into `directory`, creating it.
    ///
    /// - Parameters:
    ///   - configJSON: the run's config.json; its `torch_dtype` is set to `format`'s.
    ///   - format: `.f32`, `.bf16` or `.f16` for every tensor (the routing bias stays F32).
    ///   - tokenizer: a folder whose tokenizer files are copied, if any.
    public static func write(_ parameters: ParameterSet, config: ModelConfig, configJSON: Data, format: StorageFormat,
                             tokenizer: String?, to directory: String) throws {
        guard [.f32, .bf16, .f16].contains(format) else {
            throw TrainingError.invalidOption(name: "--save-dtype", detail: "must be f32, bf16 or f16, got \(format.rawValue)")
        }
        guard var object = try JSONValue.parse(configJSON).objectValue else {
            throw ModelError.invalidConfig(path: "config.json", key: "(file)", detail: "not a JSON object")
        }
        object["torch_dtype"] = .string(format == .f32 ? "float32" : format == .f16 ? "float16" : "bfloat16")
        object["quantization_config"] = nil
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let copies = ParameterLayout.mtpCopies(config).filter { parameters.contains($0.of.name) && parameters.contains(ParameterLayout.mtp(config, depth: 1, .ehProj).name) }
        let tensors = parameters.specs.indices.map { ($0, parameters.specs[$0]) } + copies.map { (parameters.slot($0.of.name), $0.copy) }
        let written = tensors.map { slot, spec in
            let stored = spec.role == .routerBias ? StorageFormat.f32 : format
            let entry = stored.entries(name: spec.name, rows: spec.shape[0], columns: spec.shape.count == 2 ? spec.shape[1] : 1)[0]
            return CheckpointWriter.Parameter(entries: [.init(name: spec.name, dtype: entry.dtype, shape: spec.shape)]) {
                [try TensorEncoding.bytes(parameters.values[slot], as: entry.dtype)]
            }
        }
        try CheckpointWriter.write(written, to: directory)
        let base = URL(fileURLWithPath: directory)
        try Data(JSONValue.object(object).serialized(pythonSeparators: true, indent: 2).utf8)
            .write(to: base.appendingPathComponent("config.json"), options: .atomic)
        if let tokenizer {
            for file in tokenizerFiles {
                let source = URL(fileURLWithPath: tokenizer).appendingPathComponent(file)
                guard FileManager.default.fileExists(atPath: source.path) else { continue }
                let target = base.appendingPathComponent(file)
                if source.standardizedFileURL == target.standardizedFileURL { continue }
                try? FileManager.default.removeItem(at: target)
                try FileManager.default.copyItem(at: source, to: target)
            }
        }
    }
}
