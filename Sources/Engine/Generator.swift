import Foundation
import Model
import Sampling
import Tokenizer

/// Runs requests on one model: prefill the prompt, then sample, decode and check for stops one
/// token at a time. This is the generation loop of the codebase; commands are requests to it.
public final class Generator: Sendable {
    public let model: Transformer
    public let tokenizer: Tokenizer
    /// Positions a request's cache may hold (the model's context unless lowered).
    public let contextLength: Int

    public init(model: Transformer, tokenizer: Tokenizer, contextLength: Int? = nil) {
        self.model = model
        self.tokenizer = tokenizer
        self.contextLength = min(contextLength ?? model.config.maxPositionEmbeddings, model.config.maxPositionEmbeddings)
    }

    /// Token ids that end a sequence: the config's `eos_token_id`s and the tokenizer's EOS.
    public var endOfSequenceIDs: Set<Int> {
        Set(model.config.eosTokenIds).union(tokenizer.eosID.map { [$0] } ?? [])
    }

    /// Runs `request`, reporting each token and then the finish to `onEvent` (which may throw to cancel).
    /// Throws a `ModelError` for a prompt that is empty, out of vocabulary or longer than the context.
    public func generate(_ request: GenerationRequest, onEvent: (GenerationEvent) throws -> Void) throws {
        try request.sampling.validate()
        guard request.maxTokens >= 0 else { throw EngineError.invalidMaxTokens(request.maxTokens) }
        guard request.promptIDs.count <= contextLength else {
            throw ModelError.contextOverflow(tokens: request.promptIDs.count, limit: contextLength)
        }
        var cache = try model.makeCache(capacity: contextLength)
        var sampler = Sampler(parameters: request.sampling)
        var decoder = StreamingDecoder(tokenizer: tokenizer)
        var stops = StopMatcher(stops: request.stop)
        let eos = (request.ignoreEOS ? [] : endOfSequenceIDs).union(request.stopTokenIDs)
        var usage = Usage(promptTokens: request.promptIDs.count, completionTokens: 0, prefillSeconds: 0, decodeSeconds: 0)
        var history = request.promptIDs
        var generated: [Int] = []

        let prefillStart = Date()
        var logits = try model.forward(tokens: request.promptIDs, cache: &cache)
        usage.prefillSeconds = Date().timeIntervalSince(prefillStart)
        let decodeStart = Date()
        var reason = FinishReason.length
        var stoppedByString = false
        while generated.count < request.maxTokens {
            let next = sampler.sample(logits: logits, previous: history, generated: generated)
            if eos.contains(next) { reason = .stop; break }
            generated.append(next)
            history.append(next)
            usage.completionTokens = generated.count
            let (text, stopped) = stops.feed(try decoder.append(next))
            try onEvent(.token(id: next, text: text))
            if stopped { reason = .stop; stoppedByString = true; break }
            guard generated.count < request.maxTokens, cache.count < cache.capacity else { break }
            logits = try model.forward(tokens: [next], cache: &cache)
        }
        usage.decodeSeconds = Date().timeIntervalSince(decodeStart)
        if !stoppedByString {
            let tail = stops.feed(decoder.finish()).emit + stops.flush()
            if !tail.isEmpty { try onEvent(.text(tail)) }
        }
        try onEvent(.finished(reason, usage))
    }
}
