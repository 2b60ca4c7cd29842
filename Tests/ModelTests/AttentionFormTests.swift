import Foundation
import Testing
@testable import Model

/// Absorbed and expanded MLA agree with the reference and with each other.
@Suite struct AttentionFormTests {
    @Test(arguments: Fixtures.modelNames)
    func bothFormsMatchTheGoldenLogits(fixture: String) throws {
        let model = try Transformer(directory: Fixtures.model(fixture))
        let reference = try Fixtures.reference(fixture)
        for form in [MLAttention.Form.expanded, .absorbed] {
            var cache = try model.makeCache()
            let logits = try model.forward(tokens: reference.promptIDs, cache: &cache, logits: .all, attention: form)
            let error = relativeError(logits, reference.logits.flatMap { $0 })
            #expect(error <= 1e-4, "\(fixture) \(form): \(error)")
        }
    }

    @Test(arguments: ["v3-yarn", "v3-fp8-real-heads", "v2-greedy"])
    func decodingInEitherFormGivesTheSameTokens(fixture: String) throws {
        let model = try Transformer(directory: Fixtures.model(fixture))
        let reference = try Fixtures.reference(fixture)
        for form in [MLAttention.Form.expanded, .absorbed] {
            var cache = try model.makeCache()
            var logits = try model.forward(tokens: reference.promptIDs, cache: &cache, attention: .expanded)
            var generated: [Int] = []
            for _ in reference.greedyIDs {
                generated.append(argmax(logits[...]))
                logits = try model.forward(tokens: [generated.last!], cache: &cache, attention: form)
            }
            #expect(generated == reference.greedyIDs, "\(fixture) \(form)")
        }
    }

    /// The expanded form rebuilds keys and values a block of positions at a time; the block size changes
    /// only rounding (a block of fewer than 4 positions takes the decoding product).
    @Test(arguments: ["v3-yarn", "v3-fp8-real-heads"])
    func expansionInBlocksMatchesOneBlock(fixture: String) throws {
        let model = try Transformer(directory: Fixtures.model(fixture))
        let prompt = try Fixtures.reference(fixture).promptIDs
        var cache = try model.makeCache()
        _ = try model.forward(tokens: prompt, cache: &cache)
        let attention = model.layers[0].attention
        let tokens = 3, start = prompt.count - tokens
        let q = (0..<(tokens * attention.shape.heads * attention.shape.qkHeadDim)).map { Float(sin(Double($0) * 0.37)) }
        cache.storage.withRows(layer: 0, table: cache.table) { rows in
            let whole = attention.expandedAttention(q, tokens: tokens, start: start, cached: rows, block: prompt.count)
            for block in [1, 3, 4, 5, 8] {
                let blocked = attention.expandedAttention(q, tokens: tokens, start: start, cached: rows, block: block)
                #expect(relativeError(blocked, whole) <= 1e-5, "\(fixture) block \(block)")
            }
        }
    }

    @Test func automaticFormAbsorbsForDecodingAndExpandsForPrefill() throws {
        let attention = try Transformer(directory: Fixtures.model("v3-fp8-real-heads")).layers[0].attention
        #expect(attention.cheaperForm(tokens: 1, start: 40) == .absorbed)
        #expect(attention.cheaperForm(tokens: 64, start: 0) == .expanded)
    }
}

/// A prompt longer than `prefillChunk` runs in several passes and gives what one pass gives.
@Suite struct ChunkedPrefillTests {
    @Test(arguments: ["v3-yarn", "v2-greedy"], [1, 3])
    func chunksMatchOnePass(fixture: String, chunk: Int) throws {
        let whole = try Transformer(directory: Fixtures.model(fixture))
        let chunked = try Transformer(config: whole.config, checkpoint: whole.checkpoint, prefillChunk: chunk)
        let prompt = try Fixtures.reference(fixture).promptIDs
        #expect(prompt.count > chunk)
        var wholeCache = try whole.makeCache(), chunkedCache = try chunked.makeCache()
        let expected = try whole.forward(tokens: prompt, cache: &wholeCache, logits: .all)
        let logits = try chunked.forward(tokens: prompt, cache: &chunkedCache, logits: .all)
        #expect(logits.count == expected.count)
        #expect(relativeError(logits, expected) <= 1e-5, "\(fixture) chunk \(chunk)")
        #expect(chunkedCache.count == prompt.count)
        for layer in 0..<whole.config.numHiddenLayers {
            #expect(relativeError(chunkedCache.latents(layer: layer), wholeCache.latents(layer: layer)) <= 1e-5)
        }
        // Only the last position's logits when asked for the last.
        var lastCache = try chunked.makeCache()
        let last = try chunked.forward(tokens: prompt, cache: &lastCache, logits: .last)
        #expect(relativeError(last, Array(expected.suffix(whole.config.vocabSize))) <= 1e-5)
    }
}
