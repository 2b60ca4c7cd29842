import Foundation
import Kernels
import Model
import Sampling
import Tokenizer

/// Runs every request on one model: the one generation loop of the codebase, with continuous batching.
///
/// The engine owns all mutable inference state — the shared paged KV cache, the scheduler and each
/// request's sampler and text decoder — and runs on a thread of its own (`DedicatedThreadExecutor`).
/// A caller submits a request and reads its events from an async stream: tokens with their text, then
/// the finish with usage counts. At every step the scheduler picks the sequences and positions to
/// compute, one batched forward computes them, and each sequence that reached its last known token
/// samples its next; requests join and leave between steps. Ending the stream early (a client that
/// went away) cancels the request and frees its cache blocks at once.
public actor Engine {
    public nonisolated let model: Transformer
    public nonisolated let tokenizer: Tokenizer
    public nonisolated let options: EngineOptions
    /// Positions one request may reach, prompt included.
    public nonisolated let contextLength: Int
    private let executor: DedicatedThreadExecutor
    private var scheduler: Scheduler
    private var cache: LatentCache
    private var active: [Int: ActiveRequest] = [:]
    private var nextID = 0
    private var looping = false
    private var draining = false
    private var counters = EngineStatistics.Counters()

    public nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }

    /// - Throws: `EngineError.invalidOption` for unusable options, `ModelError.cacheReservation` when the
    ///   cache's address space is not there.
    public init(model: Transformer, tokenizer: Tokenizer, options: EngineOptions = EngineOptions()) throws {
        try options.validate()
        let modelContext = model.config.maxPositionEmbeddings
        let cachePositions = options.cachePositions ?? max(min(options.contextLength ?? modelContext, modelContext), EngineOptions.defaultCachePositions)
        let blocks = (cachePositions + options.blockSize - 1) / options.blockSize
        self.model = model
        self.tokenizer = tokenizer
        self.options = options
        contextLength = min(options.contextLength ?? modelContext, modelContext, blocks * options.blockSize)
        cache = try LatentCache(config: model.config, blocks: blocks, blockSize: options.blockSize, encoding: options.kvCacheEncoding)
        scheduler = Scheduler(limits: .init(tokenBudget: options.tokenBudget, maxRunning: options.maxRunning),
                              pool: KVBlockPool(blocks: blocks, blockSize: options.blockSize))
        executor = DedicatedThreadExecutor(name: "deepseek-engine")
    }

    deinit {
        for request in active.values { request.continuation.finish(throwing: CancellationError()) }
        executor.stop()
    }

    /// Token ids that end a sequence: the config's `eos_token_id`s and the tokenizer's EOS.
    public nonisolated var endOfSequenceIDs: Set<Int> {
        Set(model.config.eosTokenIds).union(tokenizer.eosID.map { [$0] } ?? [])
    }

    /// Queues `request`; its events arrive on the returned stream, which ends after `.finished`.
    ///
    /// - Throws: a `SamplingError` or `EngineError` for invalid parameters, `ModelError` for a prompt
    ///   out of vocabulary or longer than the context, `EngineError.queueFull` when too many requests wait
    ///   and `EngineError.shuttingDown` once `drain` has begun.
    public func submit(_ request: GenerationRequest) throws -> AsyncThrowingStream<GenerationEvent, Error> {
        guard !draining else { throw EngineError.shuttingDown }
        try request.sampling.validate()
        guard request.maxTokens >= 0 else { throw EngineError.invalidMaxTokens(request.maxTokens) }
        if let count = request.logprobs, count < 0 || count > 20 { throw EngineError.invalidLogprobs(count) }
        guard !request.promptIDs.isEmpty else { throw EngineError.emptyPrompt }
        if let bad = request.promptIDs.first(where: { $0 < 0 || $0 >= model.config.vocabSize }) {
            throw ModelError.tokenOutOfRange(token: bad, vocabulary: model.config.vocabSize)
        }
        guard request.promptIDs.count <= contextLength else {
            throw ModelError.contextOverflow(tokens: request.promptIDs.count, limit: contextLength)
        }
        guard scheduler.waiting.count < options.maxWaiting else { throw EngineError.queueFull(waiting: scheduler.waiting.count) }
        let id = nextID
        // The last generated token is never run through the model, so it needs no position.
        let maxNewTokens = min(request.maxTokens, contextLength - request.promptIDs.count + 1)
        try scheduler.submit(id: id, prompt: request.promptIDs, maxNewTokens: max(maxNewTokens - 1, 0))
        nextID += 1
        let (stream, continuation) = AsyncThrowingStream<GenerationEvent, Error>.makeStream()
        continuation.onTermination = { [weak self] termination in
            if case .cancelled = termination, let self { Task { await self.cancel(id) } }
        }
        active[id] = ActiveRequest(
            request: request, endIDs: (request.ignoreEOS ? [] : endOfSequenceIDs).union(request.stopTokenIDs), maxNewTokens: maxNewTokens,
            sampler: Sampler(parameters: request.sampling), decoder: StreamingDecoder(tokenizer: tokenizer), stops: StopMatcher(stops: request.stop),
            continuation: continuation, usage: Usage(promptTokens: request.promptIDs.count, completionTokens: 0, prefillSeconds: 0, decodeSeconds: 0),
            submitted: Date())
        counters.submitted += 1
        if maxNewTokens == 0 {
            finish(id, .length)
        } else if !looping {
            looping = true
            Task { await self.runLoop() }
        }
        return stream
    }

    /// Ends request `id` at once, freeing its cache blocks; its stream finishes with `error` instead of `.finished`.
    public func cancel(_ id: Int, error: Error = CancellationError()) {
        guard let request = active.removeValue(forKey: id) else { return }
        scheduler.remove(id)
        counters.cancelled += 1
        request.continuation.finish(throwing: error)
    }

    /// Stops taking requests and waits up to `timeout` seconds for the running ones to finish; those still
    /// running then end with `EngineError.shuttingDown`.
    public func drain(timeout: Double) async {
        draining = true
        let deadline = Date().addingTimeInterval(timeout)
        while !active.isEmpty, Date() < deadline {
            try? await Task.sleep(nanoseconds: 20_000_000)
        }
        for id in active.keys.sorted() { cancel(id, error: EngineError.shuttingDown) }
    }

    /// Counts and gauges for metrics.
    public func statistics() -> EngineStatistics {
        let pool = scheduler.pool
        return EngineStatistics(
            running: scheduler.running.count, waiting: scheduler.waiting.count, blocksUsed: pool.used, blocksCached: pool.cached,
            blocksTotal: pool.totalBlocks, blockSize: pool.blockSize, bytesPerBlock: cache.bytesPerBlock,
            prefixQueries: pool.prefixQueries, prefixHits: pool.prefixHits, preemptions: scheduler.preemptions, counters: counters)
    }

    private func runLoop() async {
        while !active.isEmpty {
            step()
            // Lets submissions and cancellations that arrived during the step in before the next one.
            await Task.yield()
        }
        looping = false
    }

    /// One step of continuous batching: schedule, run the batch, sample each sequence that reached its end.
    private func step() {
        let plan = scheduler.schedule()
        guard !plan.items.isEmpty else {
            // Nothing could be scheduled although requests are active: cannot happen while every request
            // fits the cache (checked at submission); fail them rather than spin.
            for id in active.keys.sorted() { fail(id, EngineError.stalled) }
            return
        }
        let now = Date()
        var segments: [BatchSegment] = []
        for item in plan.items {
            if active[item.id]?.started == nil { active[item.id]?.started = now }
            let sequence = scheduler.sequence(item.id)!, tokens = sequence.tokens
            counters.promptTokensComputed += max(0, min(item.start + item.count, sequence.promptCount) - item.start)
            segments.append(BatchSegment(tokens: Array(tokens[item.start..<(item.start + item.count)]), start: item.start,
                                         blocks: item.blocks, logits: item.samples ? .last : nil))
        }
        let logits: [[Float]]
        do {
            logits = try model.forward(segments, cache: &cache)
        } catch {
            for item in plan.items { fail(item.id, error) }
            return
        }
        scheduler.completed(plan)
        counters.steps += 1
        counters.cachedPromptTokens += plan.cachedPositions
        for (item, output) in zip(plan.items, logits) where item.samples {
            sample(item.id, logits: output)
        }
    }

    /// Chooses sequence `id`'s next token from `logits`, reports it, and ends the request when it is done.
    private func sample(_ id: Int, logits: [Float]) {
        guard var request = active[id], let sequence = scheduler.sequence(id) else { return }
        let now = Date()
        if request.firstToken == nil {
            request.firstToken = now
            request.usage.prefillSeconds = now.timeIntervalSince(request.started ?? now)
        }
        let generated = Array(sequence.tokens[sequence.promptCount...])
        let next = request.sampler.sample(logits: logits, previous: sequence.tokens, generated: generated)
        if request.endIDs.contains(next) {
            active[id] = request
            finish(id, .stop)
            return
        }
        let logprobs = request.request.logprobs.map { TokenLogprobs(logits: logits, chosen: next, count: $0) }
        let piece: String
        do {
            piece = try request.decoder.append(next)
        } catch {
            active[id] = request
            fail(id, error)
            return
        }
        let (text, stopped) = request.stops.feed(piece)
        request.usage.completionTokens += 1
        counters.generatedTokens += 1
        request.continuation.yield(.token(id: next, text: text, logprobs: logprobs))
        active[id] = request
        if stopped {
            finish(id, .stop, stoppedByString: true)
        } else if generated.count + 1 >= request.maxNewTokens || !scheduler.append(next, to: id) {
            finish(id, .length)
        }
    }

    /// Reports the end of request `id` (with any text still held) and frees its blocks.
    private func finish(_ id: Int, _ reason: FinishReason, stoppedByString: Bool = false) {
        guard var request = active.removeValue(forKey: id) else { return }
        scheduler.remove(id)
        if !stoppedByString {
            let tail = request.stops.feed(request.decoder.finish()).emit + request.stops.flush()
            if !tail.isEmpty { request.continuation.yield(.text(tail)) }
        }
        request.usage.decodeSeconds = request.firstToken.map { Date().timeIntervalSince($0) } ?? 0
        counters.finished += 1
        request.continuation.yield(.finished(reason, request.usage))
        request.continuation.finish()
    }

    private func fail(_ id: Int, _ error: Error) {
        guard let request = active.removeValue(forKey: id) else { return }
        scheduler.remove(id)
        counters.failed += 1
        request.continuation.finish(throwing: error)
    }
}
