import Foundation
import JSON
import Kernels
import Tensors

/// Rewrites a checkpoint folder with its weight matrices in the formats of a `QuantizationRecipe`
/// (`deepseek quantize`). Each matrix is widened from whatever format it is stored in and encoded
/// again, one at a time; norms, biases and tensors the model does not read (multi-token-prediction
/// layers, a tied head's copy) are copied byte for byte, and so are the tokenizer and other files.
public enum CheckpointQuantizer {
    /// What a conversion wrote.
    public struct Report: Sendable {
        public let matrices: Int
        public let copiedTensors: Int
        public let inputBytes: Int
        public let outputBytes: Int
    }

    public static func quantize(from source: String, to destination: String, recipe: QuantizationRecipe,
                                shardBytes: Int = 5 << 30) throws -> Report {
        let fileManager = FileManager.default
        let sourceURL = URL(fileURLWithPath: source).standardizedFileURL.resolvingSymlinksInPath()
        let outURL = URL(fileURLWithPath: destination).standardizedFileURL.resolvingSymlinksInPath()
        guard sourceURL.path != outURL.path else {
            throw ModelError.invalidOption(option: "--out", detail: "is the input folder; write the quantized checkpoint to a new folder")
        }
        let configPath = sourceURL.appendingPathComponent("config.json").path
        guard let configData = fileManager.contents(atPath: configPath) else { throw ModelError.missingFile(path: configPath) }
        let config = try ModelConfig.decode(configData, path: configPath)
        guard var configObject = try JSONValue.parse(configData).objectValue else {
            throw ModelError.invalidConfig(path: configPath, key: "(file)", detail: "not a JSON object")
        }
        let checkpoint = try mappingTensorErrors { try Checkpoint(directory: source) }
        let loader = WeightLoader(checkpoint: checkpoint, config: config)

        var parameters: [CheckpointWriter.Parameter] = []
        var consumed = Set<String>()
        var matrices = 0
        for spec in ParameterLayout.parameters(config) {
            consumed.insert(spec.name)
            consumed.formUnion(TensorNames.companions(of: spec.name))
            guard let format = recipe.format(for: spec) else {
                parameters.append(try copied(spec.name, from: checkpoint))
                continue
            }
            matrices += 1
            let rows = spec.shape[0], columns = spec.shape[1]
            parameters.append(.init(entries: format.entries(name: spec.name, rows: rows, columns: columns)) {
                let (matrix, owners) = try loader.matrix(spec)
                return try withExtendedLifetime(owners) { try format.encode(matrix.dequantized(), rows: rows, columns: columns) }
            })
        }
        let others = checkpoint.names.filter { !consumed.contains($0) }
        for name in others { parameters.append(try copied(name, from: checkpoint)) }
        // Check every matrix before the long write, so a bad checkpoint fails in a second, not an hour.
        for spec in ParameterLayout.parameters(config) where recipe.format(for: spec) != nil { _ = try loader.matrix(spec) }

        try fileManager.createDirectory(at: outURL, withIntermediateDirectories: true)
        try CheckpointWriter.write(parameters, to: outURL.path, shardBytes: shardBytes)
        configObject["quantization_config"] = recipe.configEntry
        try Data(JSONValue.object(configObject).serialized(pythonSeparators: true, indent: 2).utf8)
            .write(to: outURL.appendingPathComponent("config.json"), options: .atomic)
        try copyCompanionFiles(from: sourceURL, to: outURL)
        let outputBytes = parameters.reduce(0) { total, p in total + p.entries.reduce(0) { $0 + $1.shape.reduce(1, *) * $1.dtype.byteSize } }
        return Report(matrices: matrices, copiedTensors: parameters.count - matrices, inputBytes: checkpoint.dataBytes, outputBytes: outputBytes)
    }

    /// A tensor written exactly as stored.
    private static func copied(_ name: String, from checkpoint: Checkpoint) throws -> CheckpointWriter.Parameter {
        guard let entry = checkpoint.entry(name) else { throw ModelError.tensors(.missingTensor(name: name, location: checkpoint.directory)) }
        return .init(entries: [.init(name: name, dtype: entry.dtype, shape: entry.shape)]) {
            [try mappingTensorErrors { try checkpoint.tensor(name) }.bytes]
        }
    }

    /// Tokenizer, generation config and other files beside the weights.
    private static func copyCompanionFiles(from source: URL, to destination: URL) throws {
        let fileManager = FileManager.default
        for name in try fileManager.contentsOfDirectory(atPath: source.path).sorted() {
            guard !name.hasSuffix(".safetensors"), name != CheckpointWriter.indexFile, name != "config.json", !name.hasPrefix(".") else { continue }
            var isDirectory: ObjCBool = false
            let from = source.appendingPathComponent(name), to = destination.appendingPathComponent(name)
            guard fileManager.fileExists(atPath: from.path, isDirectory: &isDirectory), !isDirectory.boolValue else { continue }
            try? fileManager.removeItem(at: to)
            try fileManager.copyItem(at: from, to: to)
        }
    }
}
