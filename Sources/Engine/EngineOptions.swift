import Kernels

/// Runtime knobs of an `Engine`: how large its shared KV cache is, and how many requests it batches.
public struct EngineOptions: Sendable, Equatable {
    /// Positions one request may reach, prompt included (default: the model's context, at most the cache).
    public var contextLength: Int?
    /// Positions the shared KV cache holds over all sequences (default: `defaultCachePositions`, at least
    /// one whole context).
    public var cachePositions: Int?
    /// Positions per cache block.
    public var blockSize: Int
    /// How cached latents are stored: `Float`, or INT8 (3.8× smaller).
    public var kvCacheEncoding: LatentEncoding
    /// Most requests decoding at once.
    public var maxRunning: Int
    /// Most prompt tokens computed per step, and the length of a prompt's chunks.
    public var tokenBudget: Int
    /// Most requests waiting to start; past it a request is refused (`EngineError.queueFull`).
    public var maxWaiting: Int

    public static let defaultCachePositions = 16_384

    public init(contextLength: Int? = nil, cachePositions: Int? = nil, blockSize: Int = 128, kvCacheEncoding: LatentEncoding = .f32,
                maxRunning: Int = 16, tokenBudget: Int = 512, maxWaiting: Int = 256) {
        self.contextLength = contextLength
        self.cachePositions = cachePositions
        self.blockSize = blockSize
        self.kvCacheEncoding = kvCacheEncoding
        self.maxRunning = maxRunning
        self.tokenBudget = tokenBudget
        self.maxWaiting = maxWaiting
    }

    /// Rejects values no engine can run with, naming the option.
    public func validate() throws(EngineError) {
        for (name, value) in [("--block-size", blockSize), ("--max-running", maxRunning), ("--token-budget", tokenBudget)] where value < 1 {
            throw .invalidOption(name, "must be ≥ 1, got \(value)")
        }
        guard maxWaiting >= 0 else { throw .invalidOption("--max-waiting", "must be ≥ 0, got \(maxWaiting)") }
        if let contextLength, contextLength < 1 { throw .invalidOption("--context", "must be ≥ 1, got \(contextLength)") }
        if let cachePositions, cachePositions < 1 { throw .invalidOption("--cache-positions", "must be ≥ 1, got \(cachePositions)") }
    }
}
