import Model
import Testing

/// The model against logits Hugging Face transformers computed (scripts/make_model_fixtures.py).
@Suite struct GoldenLogitsTests {
    @Test(arguments: Fixtures.modelNames)
    func promptLogitsMatchTransformers(fixture: String) throws {
        let model = try Transformer(directory: Fixtures.model(fixture))
        let reference = try Fixtures.reference(fixture)
        var cache = try model.makeCache()
        let logits = try model.forward(tokens: reference.promptIDs, cache: &cache, logits: .all)
        let error = relativeError(logits, reference.logits.flatMap { $0 })
        #expect(error <= 1e-4, "\(fixture): relative logit error \(error)")
    }

    @Test(arguments: Fixtures.modelNames)
    func greedyContinuationMatchesTransformers(fixture: String) throws {
        let model = try Transformer(directory: Fixtures.model(fixture))
        let reference = try Fixtures.reference(fixture)
        var cache = try model.makeCache()
        var logits = try model.forward(tokens: reference.promptIDs, cache: &cache)
        var generated: [Int] = []
        for _ in reference.greedyIDs {
            let next = argmax(logits[...])
            generated.append(next)
            logits = try model.forward(tokens: [next], cache: &cache)
        }
        #expect(generated == reference.greedyIDs)
    }

    /// Prompts of 1–3 tokens take the per-token MoE path and grouped products with several tokens.
    @Test(arguments: Fixtures.modelNames)
    func shortPromptsMatchTheReferencePrefix(fixture: String) throws {
        let model = try Transformer(directory: Fixtures.model(fixture))
        let reference = try Fixtures.reference(fixture)
        for length in 1...3 {
            var cache = try model.makeCache()
            let logits = try model.forward(tokens: Array(reference.promptIDs.prefix(length)), cache: &cache, logits: .all)
            let error = relativeError(logits, reference.logits.prefix(length).flatMap { $0 })
            #expect(error <= 1e-4, "\(fixture) first \(length): \(error)")
        }
    }

    @Test(arguments: ["v3-yarn", "v2-greedy", "v3-fp8-real-heads"])
    func cachedDecodingEqualsFullRecompute(fixture: String) throws {
        let model = try Transformer(directory: Fixtures.model(fixture))
        let prompt = try Fixtures.reference(fixture).promptIDs
        var full = try model.makeCache()
        let all = try model.forward(tokens: prompt, cache: &full, logits: .all)
        // Prefill half, then one token at a time.
        var cache = try model.makeCache()
        let split = prompt.count / 2
        var pieces = try model.forward(tokens: Array(prompt[..<split]), cache: &cache, logits: .all)
        for token in prompt[split...] { pieces += try model.forward(tokens: [token], cache: &cache) }
        #expect(relativeError(pieces, all) <= 1e-5)
        #expect(cache.count == prompt.count)
        #expect(cache.bytes == prompt.count * model.config.numHiddenLayers * model.config.latentCacheWidth * 4)
    }
}
