import Synchronization
import Engine
import Foundation
import Prometheus

/// The server's Prometheus metrics: responses by status, tokens, time to first token and inter-token
/// latency, and the engine's gauges (running and waiting requests, KV-cache use, prefix-cache hits)
/// read at each scrape.
final class ServerMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()
    private let promptTokens: Counter
    private let generatedTokens: Counter
    private let timeToFirstToken: ValueHistogram
    private let interTokenLatency: ValueHistogram
    private let requestLatency: ValueHistogram
    /// The engine's statistics at the last scrape, so each scrape adds to its counters only what is new.
    private let previous = Mutex<EngineStatistics?>(nil)

    init() {
        promptTokens = registry.makeCounter(name: "deepseek_prompt_tokens_total", help: "Prompt tokens of finished requests.")
        generatedTokens = registry.makeCounter(name: "deepseek_generation_tokens_total", help: "Tokens generated.")
        let latencies = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.5, 0.75, 1, 2.5, 5, 10]
        timeToFirstToken = registry.makeValueHistogram(name: "deepseek_time_to_first_token_seconds", buckets: latencies + [20, 40, 80],
                                                       help: "From receiving a request to its first generated token.")
        interTokenLatency = registry.makeValueHistogram(name: "deepseek_inter_token_latency_seconds", buckets: latencies,
                                                        help: "Between consecutive generated tokens of a request.")
        requestLatency = registry.makeValueHistogram(name: "deepseek_request_duration_seconds", buckets: latencies + [20, 40, 80, 160],
                                                     help: "From receiving a request to its last event.")
    }

    func countResponse(status: Int) {
        registry.makeCounter(name: "deepseek_requests_total", labels: [("status", String(status))], help: "HTTP responses by status.").increment()
    }

    func recordFirstToken(after seconds: Double) { timeToFirstToken.record(seconds) }
    func recordInterToken(_ seconds: Double) { interTokenLatency.record(seconds) }

    func recordFinished(promptTokens prompt: Int, generated: Int, seconds: Double) {
        promptTokens.increment(by: Int64(prompt))
        generatedTokens.increment(by: Int64(generated))
        requestLatency.record(seconds)
    }

    /// The Prometheus text of every metric, the engine's read now.
    func render(_ statistics: EngineStatistics) -> String {
        func gauge(_ name: String, _ help: String, _ value: Double) {
            registry.makeGauge(name: name, help: help).set(value)
        }
        gauge("deepseek_requests_running", "Requests being computed.", Double(statistics.running))
        gauge("deepseek_requests_waiting", "Requests waiting to start.", Double(statistics.waiting))
        gauge("deepseek_kv_cache_usage_ratio", "Share of KV-cache blocks held by requests.", statistics.cacheUsage)
        gauge("deepseek_kv_cache_blocks_used", "KV-cache blocks held by requests.", Double(statistics.blocksUsed))
        gauge("deepseek_kv_cache_blocks_cached", "KV-cache blocks holding a reusable prompt prefix.", Double(statistics.blocksCached))
        gauge("deepseek_kv_cache_blocks_total", "KV-cache blocks in all.", Double(statistics.blocksTotal))
        gauge("deepseek_kv_cache_bytes_total", "Bytes of the whole KV cache.", Double(statistics.blocksTotal * statistics.bytesPerBlock))
        gauge("deepseek_prefix_cache_hit_ratio", "Share of prompt blocks found in the prefix cache.", statistics.prefixHitRate)
        let last = previous.withLock { previous in
            defer { previous = statistics }
            return previous
        }
        func count(_ name: String, _ help: String, _ value: (EngineStatistics) -> Int) {
            registry.makeCounter(name: name, help: help).increment(by: Int64(value(statistics) - (last.map(value) ?? 0)))
        }
        count("deepseek_prefix_cache_queries_total", "Prompt blocks looked up in the prefix cache.") { $0.prefixQueries }
        count("deepseek_prefix_cache_hits_total", "Prompt blocks found in the prefix cache.") { $0.prefixHits }
        count("deepseek_preemptions_total", "Requests preempted to free cache blocks.") { $0.preemptions }
        count("deepseek_prefix_cache_tokens_total", "Prompt tokens taken from the prefix cache.") { $0.counters.cachedPromptTokens }
        count("deepseek_requests_cancelled_total", "Requests cancelled (client gone or shutdown).") { $0.counters.cancelled }
        return registry.emitToString()
    }
}
