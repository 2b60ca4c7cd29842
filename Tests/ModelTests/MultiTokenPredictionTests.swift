import Foundation
import Testing
@testable import Model
@testable import Tensors

/// MTP layers (stored after the main layers, as DeepSeek-V3's layer 61) are recognised and not loaded.
@Suite struct MultiTokenPredictionTests {
    @Test func mtpLayerIsSetAsideAndCountedSeparately() throws {
        let source = URL(fileURLWithPath: Fixtures.model("v3-yarn"))
        let folder = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        for file in ["config.json", "tokenizer.json", "tokenizer_config.json"] {
            try FileManager.default.copyItem(at: source.appendingPathComponent(file), to: folder.appendingPathComponent(file))
        }
        let checkpoint = try Checkpoint(directory: source.path)
        var tensors = try checkpoint.names.map { try checkpoint.tensor($0) }
        // An MTP module: a copy of layer 2 as layer 3 plus its projection and norms.
        for name in checkpoint.names where name.hasPrefix("model.layers.2.") {
            let t = try checkpoint.tensor(name)
            tensors.append(Tensor(name: name.replacingOccurrences(of: "layers.2.", with: "layers.3."), dtype: t.dtype,
                                  shape: t.shape, storage: t.storage, byteOffset: t.byteOffset))
        }
        tensors.append(Tensor(name: "model.layers.3.eh_proj.weight", shape: [64, 128], floats: [Float](repeating: 0.01, count: 64 * 128)))
        tensors.append(Tensor(name: "model.layers.3.enorm.weight", shape: [64], floats: [Float](repeating: 1, count: 64)))
        tensors.append(Tensor(name: "model.layers.3.hnorm.weight", shape: [64], floats: [Float](repeating: 1, count: 64)))
        try SafetensorsWriter.write(tensors, to: folder.appendingPathComponent("model.safetensors").path)
        let configURL = folder.appendingPathComponent("config.json")
        let edited = try String(contentsOf: configURL, encoding: .utf8)
            .replacingOccurrences(of: "\"num_nextn_predict_layers\": 0", with: "\"num_nextn_predict_layers\": 1")
        try edited.write(to: configURL, atomically: true, encoding: .utf8)

        let model = try Transformer(directory: folder.path)
        #expect(model.config.numNextnPredictLayers == 1)
        let reference = try Fixtures.reference("v3-yarn")
        var cache = try model.makeCache()
        let logits = try model.forward(tokens: reference.promptIDs, cache: &cache, logits: .all)
        #expect(relativeError(logits, reference.logits.flatMap { $0 }) <= 1e-4)

        let summary = ModelSummary(config: model.config, checkpoint: try Checkpoint(directory: folder.path))
        let plain = ModelSummary(config: try ModelConfig.load(directory: source.path), checkpoint: checkpoint)
        #expect(summary.totalParameters == plain.totalParameters)
        #expect(summary.mtpParameters > 64 * 128)
    }

    @Test func activeParametersCountOnlySelectedExperts() throws {
        let checkpoint = try Checkpoint(directory: Fixtures.model("v3-yarn"))
        let config = try ModelConfig.load(directory: Fixtures.model("v3-yarn"))
        let summary = ModelSummary(config: config, checkpoint: checkpoint)
        // Per MoE layer, each of 8 routed experts has 3 × 32 × 64 weights; a token uses 3 of them.
        let perExpert = 3 * 32 * 64, moeLayers = 2
        #expect(summary.totalParameters - summary.activeParameters == moeLayers * (8 - 3) * perExpert)
    }
}
