import Foundation
import Kernels
import Testing
@testable import Model
@testable import Tensors

/// `CheckpointQuantizer` output loads like any checkpoint, in the formats its recipe names.
@Suite struct QuantizedCheckpointTests {
    func quantized(_ name: String, _ recipe: QuantizationRecipe, shardBytes: Int = 5 << 30) throws -> (Transformer, URL) {
        let out = try Fixtures.temporaryDirectory()
        _ = try CheckpointQuantizer.quantize(from: Fixtures.model(name), to: out.path, recipe: recipe, shardBytes: shardBytes)
        return (try Transformer(directory: out.path), out)
    }

    func logits(_ model: Transformer, _ tokens: [Int]) throws -> [Float] {
        var cache = try model.makeCache()
        return try model.forward(tokens: tokens, cache: &cache, logits: .all)
    }

    /// Each format stays near the original's logits, in proportion to its precision, and the
    /// quantized weights are the stored format in memory.
    @Test(arguments: [(StorageFormat.bf16, Float(0.01)), (.fp8, 0.1), (.q8, 0.03), (.q4a, 0.2), (.q4, 0.25)])
    func everyFormatLoadsAndStaysClose(format: StorageFormat, tolerance: Float) throws {
        let reference = try Fixtures.reference("v3-trained")
        let original = try Transformer(directory: Fixtures.model("v3-trained"))
        let (model, out) = try quantized("v3-trained", try QuantizationRecipe(format: format))
        defer { try? FileManager.default.removeItem(at: out) }
        let expected = try logits(original, reference.promptIDs), actual = try logits(model, reference.promptIDs)
        let error = relativeError(actual, expected)
        #expect(error < tolerance, "\(format): relative error \(error)")
        if format != .bf16 { #expect(error > 0, "\(format) changed nothing: was it quantized at all?") }
        let expert = model.layers[1].moe!.experts[0].gate.weight.format
        let expectedFormat: WeightFormat = switch format {
        case .q8: .q8
        case .q4: .q4
        case .q4a: .q4a
        case .fp8: .fp8E4M3(blockRows: 128, blockColumns: 128)
        default: .bf16
        }
        #expect(expert == expectedFormat)
        #expect(model.embedding.format == .bf16)
    }

    /// `--mixed` puts each class in its own format; a tiny shard limit splits the checkpoint with an
    /// index, and the result computes the same logits as the single file.
    @Test func mixedRecipeAndShards() throws {
        let recipe = try QuantizationRecipe(format: .q4, mixed: "attention=q8,shared=q8,embedding=q8,head=bf16,dense=fp8")
        let (single, a) = try quantized("v3-trained", recipe)
        let (sharded, b) = try quantized("v3-trained", recipe, shardBytes: 100_000)
        defer { try? FileManager.default.removeItem(at: a); try? FileManager.default.removeItem(at: b) }
        #expect(single.embedding.format == .q8)
        #expect(single.head.weight.format == .bf16)
        #expect(single.layers[0].attention.oProj.weight.format == .q8)
        #expect(single.layers[0].dense?.gate.weight.format == .fp8E4M3(blockRows: 128, blockColumns: 128))
        #expect(single.layers[1].moe?.experts[3].down.weight.format == .q4)
        #expect(single.layers[1].moe?.shared?.up.weight.format == .q8)
        let shards = try FileManager.default.contentsOfDirectory(atPath: b.path).filter { $0.hasSuffix(".safetensors") }
        #expect(shards.count > 2)
        #expect(FileManager.default.fileExists(atPath: b.appendingPathComponent("model.safetensors.index.json").path))
        let prompt = try Fixtures.reference("v3-trained").promptIDs
        #expect(try logits(single, prompt) == logits(sharded, prompt))
        // The tokenizer came along and config.json names the recipe.
        #expect(FileManager.default.fileExists(atPath: a.appendingPathComponent("tokenizer.json").path))
        let config = try String(contentsOf: a.appendingPathComponent("config.json"), encoding: .utf8)
        #expect(config.contains("\"quant_method\": \"deepseek-swift\"") && config.contains("experts=q4"))
    }

    /// An FP8 checkpoint (the official layout) converts to the integer formats.
    @Test func fp8SourceRequantizes() throws {
        let reference = try Fixtures.reference("v3-fp8-real-heads")
        let original = try Transformer(directory: Fixtures.model("v3-fp8-real-heads"))
        let (model, out) = try quantized("v3-fp8-real-heads", try QuantizationRecipe(format: .q8))
        defer { try? FileManager.default.removeItem(at: out) }
        let error = relativeError(try logits(model, reference.promptIDs), try logits(original, reference.promptIDs))
        #expect(error < 0.05, "relative error \(error)")
    }

    @Test func badRecipesAndFoldersAreErrors() throws {
        #expect(throws: ModelError.self) { try QuantizationRecipe(format: .q4, mixed: "experts") }
        #expect(throws: ModelError.self) { try QuantizationRecipe(format: .q4, mixed: "kernels=q8") }
        #expect(throws: ModelError.self) { try QuantizationRecipe(format: .q4, mixed: "experts=q3") }
        let source = Fixtures.model("v3-yarn")
        #expect(throws: ModelError.self) {
            try CheckpointQuantizer.quantize(from: source, to: source + "/", recipe: try QuantizationRecipe(format: .q8))
        }
    }
}

extension DecoderLayer {
    var moe: MoE? { if case let .moe(moe) = feedForward { moe } else { nil } }
    var dense: DenseMLP? { if case let .dense(mlp) = feedForward { mlp } else { nil } }
}
