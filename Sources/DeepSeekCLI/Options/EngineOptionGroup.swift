import ArgumentParser
import Engine
import Kernels

/// The serving engine's knobs on the command line; they map onto `EngineOptions`.
struct EngineOptionGroup: ParsableArguments {
    @Option(help: "Context length of one request (default: the model's max_position_embeddings, at most the cache).") var context: Int?
    @Option(name: .customLong("cache-positions"),
            help: "Positions the shared KV cache holds over all requests (default: \(EngineOptions.defaultCachePositions), at least one context).")
    var cachePositions: Int?
    @Option(name: .customLong("block-size"), help: "Positions per KV-cache block.") var blockSize = 128
    @Option(name: .customLong("kv-cache-dtype"), help: "How cached latents are stored: f32, or int8 (3.6× smaller, a scale per 32 values).")
    var kvCacheDType: KVCacheDType = .f32
    @Option(name: .customLong("max-running"), help: "Most requests decoding at once.") var maxRunning = 16
    @Option(name: .customLong("token-budget"), help: "Most prompt tokens computed per step (the length of a prompt's chunks).")
    var tokenBudget = 512
    @Option(name: .customLong("max-waiting"), help: "Most requests queued; more are refused with 429.") var maxWaiting = 256

    enum KVCacheDType: String, ExpressibleByArgument, CaseIterable {
        case f32, int8
    }

    var options: EngineOptions {
        EngineOptions(contextLength: context, cachePositions: cachePositions, blockSize: blockSize,
                      kvCacheEncoding: kvCacheDType == .int8 ? .int8 : .f32, maxRunning: maxRunning, tokenBudget: tokenBudget, maxWaiting: maxWaiting)
    }

    func validate() throws {
        do { try options.validate() } catch { throw ValidationError(error.description) }
    }
}
