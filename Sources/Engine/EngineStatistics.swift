/// A snapshot of an `Engine`'s gauges and counters, for metrics.
public struct EngineStatistics: Sendable, Equatable {
    /// Totals since the engine started.
    public struct Counters: Sendable, Equatable {
        public var submitted = 0
        public var finished = 0
        public var cancelled = 0
        public var failed = 0
        public var steps = 0
        /// Prompt positions run through the model (recomputed ones again).
        public var promptTokensComputed = 0
        /// Prompt positions taken from the prefix cache instead.
        public var cachedPromptTokens = 0
        public var generatedTokens = 0

        public init() {}
    }

    public let running: Int
    public let waiting: Int
    public let blocksUsed: Int
    /// Blocks holding a reusable prompt prefix (held by a sequence or not).
    public let blocksCached: Int
    public let blocksTotal: Int
    public let blockSize: Int
    public let bytesPerBlock: Int
    public let prefixQueries: Int
    public let prefixHits: Int
    public let preemptions: Int
    public let counters: Counters

    /// Share of the cache's blocks held by sequences.
    public var cacheUsage: Double { blocksTotal > 0 ? Double(blocksUsed) / Double(blocksTotal) : 0 }
    /// Share of prompt blocks looked up that were found in the prefix cache.
    public var prefixHitRate: Double { prefixQueries > 0 ? Double(prefixHits) / Double(prefixQueries) : 0 }
}
