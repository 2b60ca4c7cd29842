import Foundation
import Model
import Testing
import Tokenizer
@testable import Engine

/// Perplexity and divergence on the trained fixture (Tests/Fixtures/models/v3-trained, fitted to
/// Tests/Fixtures/text/sample.txt), and the quality bars for quantized checkpoints.
@Suite struct PerplexityTests {
    static let trained = modelsRoot.appendingPathComponent("v3-trained").path
    static let text = modelsRoot.deletingLastPathComponent().appendingPathComponent("text/sample.txt")

    func tokens() throws -> [Int] {
        try Tokenizer(directory: Self.trained).encode(String(contentsOf: Self.text, encoding: .utf8))
    }

    /// Perplexity is exp of the mean negative log-likelihood, computed here independently from the logits.
    @Test func perplexityMatchesTheDefinition() throws {
        let model = try Transformer(directory: Self.trained)
        let ids = Array(try tokens().prefix(40))
        let report = try Perplexity.evaluate(model: model, reference: nil, tokens: ids, context: 16)
        var nll = 0.0, scored = 0
        for start in stride(from: 0, to: ids.count, by: 16) {
            let chunk = Array(ids[start..<min(start + 16, ids.count)])
            var cache = try model.makeCache()
            let logits = try model.forward(tokens: chunk, cache: &cache, logits: .all)
            let vocab = model.config.vocabSize
            for p in 0..<(chunk.count - 1) {
                let row = logits[(p * vocab)..<((p + 1) * vocab)].map(Double.init)
                let m = row.max()!
                nll -= row[chunk[p + 1]] - m - log(row.reduce(0) { $0 + exp($1 - m) })
                scored += 1
            }
        }
        #expect(report.scoredTokens == scored && report.chunks == 3)
        #expect(abs(report.perplexity - exp(nll / Double(scored))) < 1e-6 * report.perplexity)
        // The model was trained on this text: far better than the uniform 512.
        #expect(report.perplexity < 50)
    }

    @Test func aModelAgainstItselfHasNoDivergence() throws {
        let model = try Transformer(directory: Self.trained)
        let report = try Perplexity.evaluate(model: model, reference: model, tokens: Array(try tokens().prefix(64)), context: 32)
        #expect(report.meanKL == 0 && report.top1Agreement == 1 && report.referencePerplexity == report.perplexity)
    }

    /// The bars: top-1 agreement with the BF16 original ≥ 99% for q8 and ≥ 95% for q4.
    @Test(arguments: [(StorageFormat.q8, 0.99, 0.001), (.q4, 0.95, 0.05), (.q4a, 0.95, 0.05)])
    func quantizedCheckpointsKeepTheirQuality(format: StorageFormat, top1: Double, kl: Double) throws {
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("deepseek-ppl-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: out) }
        _ = try CheckpointQuantizer.quantize(from: Self.trained, to: out.path, recipe: try QuantizationRecipe(format: format))
        let (model, reference) = (try Transformer(directory: out.path), try Transformer(directory: Self.trained))
        // The whole chunk at once (prefill's path), then token by token (decoding's, with Int8 activations
        // for the integer formats where the build has them).
        for batch in [128, 1] {
            let report = try Perplexity.evaluate(model: model, reference: reference, tokens: try tokens(), context: 128, batch: batch)
            #expect(report.top1Agreement! >= top1, "\(format) batch \(batch): top-1 \(report.top1Agreement!)")
            #expect(report.meanKL! <= kl && report.meanKL! > 0, "\(format) batch \(batch): KL \(report.meanKL!)")
        }
    }

    /// Scoring token by token through the cache gives the perplexity of scoring whole chunks.
    @Test func decodingStepsScoreLikeWholeChunks() throws {
        let model = try Transformer(directory: Self.trained)
        let ids = Array(try tokens().prefix(100))
        let whole = try Perplexity.evaluate(model: model, reference: nil, tokens: ids, context: 50)
        let stepped = try Perplexity.evaluate(model: model, reference: nil, tokens: ids, context: 50, batch: 1)
        let mixed = try Perplexity.evaluate(model: model, reference: nil, tokens: ids, context: 50, batch: 7)
        #expect(abs(stepped.perplexity - whole.perplexity) <= 1e-3 * whole.perplexity)
        #expect(abs(mixed.perplexity - whole.perplexity) <= 1e-3 * whole.perplexity)
        #expect(stepped.scoredTokens == whole.scoredTokens && stepped.chunks == 2)
        #expect(throws: EngineError.self) { try Perplexity.evaluate(model: model, reference: nil, tokens: ids, context: 50, batch: 0) }
    }

    @Test func tooFewTokensIsAnError() throws {
        let model = try Transformer(directory: Self.trained)
        #expect(throws: EngineError.self) { try Perplexity.evaluate(model: model, reference: nil, tokens: [5], context: 16) }
    }
}
