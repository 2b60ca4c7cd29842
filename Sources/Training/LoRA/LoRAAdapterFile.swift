import Foundation
import JSON
import Kernels
import Model
import Tensors

/// A PEFT adapter folder: `adapter_config.json` and `adapter_model.safetensors`, whose tensors are named
/// `base_model.model.<module>.lora_A.weight` / `lora_B.weight` as PEFT saves them.
public struct LoRAAdapterFile: Sendable {
    public static let configFile = "adapter_config.json"
    public static let weightsFile = "adapter_model.safetensors"
    static let prefix = "base_model.model."

    public let config: LoRAConfig
    /// `A` and `B` by their names without PEFT's prefix (`model.layers.0.self_attn.q_a_proj.lora_A.weight`).
    public let tensors: [String: [Float]]

    /// Writes the adapters `parameters` hold into `directory` (created), with `baseModel` named in the config.
    public static func write(_ parameters: ParameterSet, baseModel: String, to directory: String) throws {
        guard let lora = parameters.lora else { preconditionFailure("the parameters have no adapters") }
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let adapters = parameters.specs.indices.filter { ParameterSet.isAdapter(parameters.specs[$0]) }
        let entries = adapters.map { SafetensorsWriter.Entry(name: prefix + parameters.specs[$0].name, dtype: .f32, shape: parameters.specs[$0].shape) }
        let base = URL(fileURLWithPath: directory)
        try SafetensorsWriter.write(entries: entries, metadata: ["format": "pt"], to: base.appendingPathComponent(weightsFile).path) { i in
            try TensorEncoding.bytes(parameters.values[adapters[i]], as: .f32)
        }
        try Data((lora.json(baseModel: baseModel).serialized(pythonSeparators: true, indent: 2) + "\n").utf8)
            .write(to: base.appendingPathComponent(configFile), options: .atomic)
    }

    /// Reads the adapter folder `directory`.
    public init(directory: String) throws {
        let base = URL(fileURLWithPath: directory)
        let configPath = base.appendingPathComponent(Self.configFile).path
        guard let data = FileManager.default.contents(atPath: configPath) else {
            throw TrainingError.invalidAdapter(path: configPath, detail: "no such file (is \(directory) a LoRA adapter folder?)")
        }
        let json: JSONValue
        do { json = try JSONValue.parse(data) } catch { throw TrainingError.invalidAdapter(path: configPath, detail: "\(error)") }
        config = try LoRAConfig(json: json, path: configPath)
        let file = try SafetensorsFile(path: base.appendingPathComponent(Self.weightsFile).path)
        var tensors: [String: [Float]] = [:]
        for name in file.names {
            // PEFT drops the adapter's name ("default") when saving; older files may keep it.
            let key = String(name.hasPrefix(Self.prefix) ? name.dropFirst(Self.prefix.count) : name[...])
                .replacingOccurrences(of: ".lora_A.default.weight", with: ".lora_A.weight")
                .replacingOccurrences(of: ".lora_B.default.weight", with: ".lora_B.weight")
            tensors[key] = try file.tensor(name).floats()
        }
        self.tensors = tensors
    }

    /// The adapter parameters for the model `base` in the checkpoint's layout, checked against its shapes.
    public func adapterValues(for base: [ParameterSpec], path: String) throws -> [(spec: ParameterSpec, values: [Float])] {
        let adapters = config.adapters(of: base)
        var out: [(ParameterSpec, [Float])] = []
        for (_, a, b) in adapters {
            for spec in [a, b] {
                guard let values = tensors[spec.name] else {
                    throw TrainingError.invalidAdapter(path: path, detail: "\(Self.prefix + spec.name) is missing")
                }
                guard values.count == spec.elementCount else {
                    throw TrainingError.invalidAdapter(path: path, detail: "\(spec.name) has \(values.count) values, the model needs \(spec.shape)")
                }
                out.append((spec, values))
            }
        }
        guard out.count == tensors.count else {
            let known = Set(out.map(\.0.name))
            let extra = tensors.keys.filter { !known.contains($0) }.sorted().first ?? ""
            throw TrainingError.invalidAdapter(path: path, detail: "\(extra) does not belong to this model's targeted layers")
        }
        return out
    }

    /// Folds the adapters into `parameters` (`W += scaling · B A` for every adapted weight).
    public func merge(into parameters: inout ParameterSet, path: String) throws {
        let values = Dictionary(uniqueKeysWithValues: try adapterValues(for: parameters.specs, path: path).map { ($0.spec.name, $0.values) })
        for (weight, a, b) in config.adapters(of: parameters.specs) {
            let slot = parameters.slot(weight.name)
            let delta = gemm(values[b.name]!, values[a.name]!, m: weight.shape[0], n: weight.shape[1], k: config.rank)
            let scaling = config.scaling
            parameters.values[slot].withUnsafeMutableBufferPointer { w in
                for i in w.indices { w[i] += scaling * delta[i] }
            }
        }
    }
}
