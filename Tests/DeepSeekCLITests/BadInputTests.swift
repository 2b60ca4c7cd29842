import Foundation
import Testing

/// Every bad input ends with one line naming the file or key, a non-zero exit, and no trap.
@Suite struct BadInputTests {
    func expectOneLineError(_ arguments: [String], mentioning words: [String]) throws {
        let result = try CLI.run(arguments)
        #expect(result.exitedNormally, "trapped: \(result.stderr)")
        #expect(result.status != 0)
        let lines = result.stderr.split(separator: "\n")
        #expect(lines.count == 1, "stderr: \(result.stderr)")
        for word in words { #expect(result.stderr.contains(word), "stderr: \(result.stderr)") }
    }

    func replaceConfig(in folder: URL, _ edit: (inout String) -> Void) throws {
        let url = folder.appendingPathComponent("config.json")
        var text = try String(contentsOf: url, encoding: .utf8)
        edit(&text)
        try text.write(to: url, atomically: true, encoding: .utf8)
    }

    @Test func missingFolder() throws {
        try expectOneLineError(["logits", "--model", "/no/such/model", "--ids", "1"], mentioning: ["/no/such/model/config.json", "no such file"])
    }

    @Test func missingWeights() throws {
        let folder = try CLI.copyOfModel()
        defer { try? FileManager.default.removeItem(at: folder) }
        try FileManager.default.removeItem(at: folder.appendingPathComponent("model.safetensors"))
        try expectOneLineError(["logits", "--model", folder.path, "--ids", "1"], mentioning: ["model.safetensors", "no such file"])
    }

    @Test func truncatedSafetensors() throws {
        let folder = try CLI.copyOfModel()
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("model.safetensors")
        let data = try Data(contentsOf: file)
        try data.prefix(data.count - 1000).write(to: file)
        try expectOneLineError(["logits", "--model", folder.path, "--ids", "1"], mentioning: ["model.safetensors", "truncated"])
    }

    /// A copy of the fixture whose safetensors header has its first `target` replaced (same length keeps offsets valid).
    func modelWithEditedHeader(replacing target: String, with replacement: String) throws -> URL {
        let folder = try CLI.copyOfModel()
        let file = folder.appendingPathComponent("model.safetensors")
        var data = try Data(contentsOf: file)
        let length = Int(data.prefix(8).withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) })
        var header = String(decoding: data[8..<(8 + length)], as: UTF8.self)
        let range = try #require(header.range(of: target))
        header.replaceSubrange(range, with: replacement)
        data.replaceSubrange(8..<(8 + length), with: Data(header.utf8))
        try data.write(to: file)
        return folder
    }

    @Test func headerWhoseSizesLie() throws {
        // The first tensor's shape claims one more row than its offsets hold.
        let folder = try modelWithEditedHeader(replacing: "\"shape\":[512,64]", with: "\"shape\":[513,64]")
        defer { try? FileManager.default.removeItem(at: folder) }
        try expectOneLineError(["logits", "--model", folder.path, "--ids", "1"], mentioning: ["model.safetensors", "bad data offsets"])
    }

    @Test func unknownDType() throws {
        let folder = try modelWithEditedHeader(replacing: "\"dtype\":\"F32\"", with: "\"dtype\":\"Q99\"")
        defer { try? FileManager.default.removeItem(at: folder) }
        try expectOneLineError(["logits", "--model", folder.path, "--ids", "1"], mentioning: ["unknown dtype 'Q99'"])
    }

    @Test func tensorShapeDisagreesWithConfig() throws {
        let folder = try CLI.copyOfModel()
        defer { try? FileManager.default.removeItem(at: folder) }
        try replaceConfig(in: folder) { $0 = $0.replacingOccurrences(of: "\"intermediate_size\": 96", with: "\"intermediate_size\": 100") }
        try expectOneLineError(["logits", "--model", folder.path, "--ids", "1"], mentioning: ["mlp.gate_proj.weight", "[100, 64]"])
    }

    @Test func missingTensor() throws {
        let folder = try CLI.copyOfModel()
        defer { try? FileManager.default.removeItem(at: folder) }
        try replaceConfig(in: folder) { $0 = $0.replacingOccurrences(of: "\"num_hidden_layers\": 3", with: "\"num_hidden_layers\": 4") }
        try expectOneLineError(["logits", "--model", folder.path, "--ids", "1"], mentioning: ["missing tensor", "model.layers.3."])
    }

    @Test func unknownModelType() throws {
        let folder = try CLI.copyOfModel()
        defer { try? FileManager.default.removeItem(at: folder) }
        try replaceConfig(in: folder) { $0 = $0.replacingOccurrences(of: "\"deepseek_v3\"", with: "\"mistral\"") }
        try expectOneLineError(["info", "--model", folder.path], mentioning: ["model_type", "mistral"])
    }

    @Test func unsupportedConfigValueNamesTheKey() throws {
        let folder = try CLI.copyOfModel()
        defer { try? FileManager.default.removeItem(at: folder) }
        try replaceConfig(in: folder) { $0 = $0.replacingOccurrences(of: "\"topk_method\": \"noaux_tc\"", with: "\"topk_method\": \"magic\"") }
        try expectOneLineError(["info", "--model", folder.path], mentioning: ["topk_method", "magic"])
    }

    @Test func configThatIsNotJSON() throws {
        let folder = try CLI.copyOfModel()
        defer { try? FileManager.default.removeItem(at: folder) }
        try replaceConfig(in: folder) { $0 = "{ broken" }
        try expectOneLineError(["info", "--model", folder.path], mentioning: ["config.json"])
    }

    @Test func promptLongerThanTheContext() throws {
        let prompt = Array(repeating: "5", count: 70).joined(separator: ",")
        try expectOneLineError(["generate", "--model", CLI.model(), "--prompt-ids", prompt], mentioning: ["70 tokens exceed the context of 64"])
    }

    @Test func tokenOutsideTheVocabulary() throws {
        try expectOneLineError(["logits", "--model", CLI.model(), "--ids", "512"], mentioning: ["token id 512", "vocabulary of 512"])
    }

    @Test func invalidSamplingValue() throws {
        let result = try CLI.run(["generate", "--model", CLI.model(), "--prompt", "x", "--top-p", "1.5"])
        #expect(result.exitedNormally && result.status != 0)
        #expect(result.stderr.contains("top_p"))
    }
}
