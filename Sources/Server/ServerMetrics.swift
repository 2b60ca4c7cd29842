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
        promptTokens = registry.makeCounter(descriptor: Self.name("prompt_tokens", "total", "Prompt tokens of finished requests."))
        generatedTokens = registry.makeCounter(descriptor: Self.name("generation_tokens", "total", "Tokens generated."))
        let latencies = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.5, 0.75, 1, 2.5, 5, 10]
        timeToFirstToken = registry.makeValueHistogram(
            descriptor: Self.name("time_to_first_token", "seconds", "From receiving a request to its first generated token."),
            buckets: latencies + [20, 40, 80])
        interTokenLatency = registry.makeValueHistogram(
            descriptor: Self.name("inter_token_latency", "seconds", "Between consecutive generated tokens of a request."), buckets: latencies)
        requestLatency = registry.makeValueHistogram(
            descriptor: Self.name("request_duration", "seconds", "From receiving a request to its last event."), buckets: latencies + [20, 40, 80, 160])
    }

    /// `deepseek_<metric>_<unit>` (no unit: an empty string), with its help text.
    private static func name(_ metric: String, _ unit: String, _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(namespace: "deepseek", metricName: metric, unitName: unit, helpText: help)
    }

    func countResponse(status: Int) {
        registry.makeCounter(descriptor: Self.name("requests", "total", "HTTP responses by status."), labels: [("status", String(status))]).increment()
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
        func gauge(_ metric: String, _ help: String, _ value: Double) {
            registry.makeGauge(descriptor: Self.name(metric, "", help)).set(value)
        }
        gauge("requests_running", "Requests being computed.", Double(statistics.running))
        gauge("requests_waiting", "Requests waiting to start.", Double(statistics.waiting))
        gauge("kv_cache_usage_ratio", "Share of KV-cache blocks held by requests.", statistics.cacheUsage)
        gauge("kv_cache_blocks_used", "KV-cache blocks held by requests.", Double(statistics.blocksUsed))
        gauge("kv_cache_blocks_cached", "KV-cache blocks holding a reusable prompt prefix.", Double(statistics.blocksCached))
        gauge("kv_cache_blocks_total", "KV-cache blocks in all.", Double(statistics.blocksTotal))
        gauge("kv_cache_bytes_total", "Bytes of the whole KV cache.", Double(statistics.blocksTotal * statistics.bytesPerBlock))
        gauge("prefix_cache_hit_ratio", "Share of prompt blocks found in the prefix cache.", statistics.prefixHitRate)
        let last = previous.withLock { previous in
            defer { previous = statistics }
            return previous
        }
        func count(_ metric: String, _ help: String, _ value: (EngineStatistics) -> Int) {
            registry.makeCounter(descriptor: Self.name(metric, "total", help)).increment(by: Int64(value(statistics) - (last.map(value) ?? 0)))
        }
        count("prefix_cache_queries", "Prompt blocks looked up in the prefix cache.") { $0.prefixQueries }
        count("prefix_cache_hits", "Prompt blocks found in the prefix cache.") { $0.prefixHits }
        count("preemptions", "Requests preempted to free cache blocks.") { $0.preemptions }
        count("prefix_cache_tokens", "Prompt tokens taken from the prefix cache.") { $0.counters.cachedPromptTokens }
        count("requests_cancelled", "Requests cancelled (client gone or shutdown).") { $0.counters.cancelled }
        return registry.emitToString()
    }
}
