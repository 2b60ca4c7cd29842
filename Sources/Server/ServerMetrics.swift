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
    /// Engine totals already added to their counters, so each scrape adds what is new.
    private let seen = Mutex(EngineStatistics.Counters())
    private let seenPrefix = Mutex((queries: 0, hits: 0, preemptions: 0))

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
        let (queries, hits, preemptions) = seenPrefix.withLock { seen in
            defer { seen = (statistics.prefixQueries, statistics.prefixHits, statistics.preemptions) }
            return (statistics.prefixQueries - seen.queries, statistics.prefixHits - seen.hits, statistics.preemptions - seen.preemptions)
        }
        registry.makeCounter(name: "deepseek_prefix_cache_queries_total", help: "Prompt blocks looked up in the prefix cache.").increment(by: Int64(queries))
        registry.makeCounter(name: "deepseek_prefix_cache_hits_total", help: "Prompt blocks found in the prefix cache.").increment(by: Int64(hits))
        registry.makeCounter(name: "deepseek_preemptions_total", help: "Requests preempted to free cache blocks.").increment(by: Int64(preemptions))
        let counters = statistics.counters
        let delta = seen.withLock { seen in
            defer { seen = counters }
            return (counters.cachedPromptTokens - seen.cachedPromptTokens, counters.cancelled - seen.cancelled)
        }
        registry.makeCounter(name: "deepseek_prefix_cache_tokens_total", help: "Prompt tokens taken from the prefix cache.").increment(by: Int64(delta.0))
        registry.makeCounter(name: "deepseek_requests_cancelled_total", help: "Requests cancelled (client gone or shutdown).").increment(by: Int64(delta.1))
        return registry.emitToString()
    }
}
