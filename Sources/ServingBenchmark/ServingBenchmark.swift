import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// A load generator for an OpenAI-compatible server (`deepseek bench-serve`): `concurrency` clients send
/// `requests` streamed completions of `promptTokens` random token ids and `genTokens` tokens each, and the
/// run reports aggregate generated tokens per second and per-request latencies.
public struct ServingBenchmark: Sendable {
    public struct Configuration: Sendable {
        public var url: String
        public var concurrency: Int
        public var requests: Int
        public var promptTokens: Int
        public var genTokens: Int
        public var apiKey: String?
        public var seed: UInt64

        public init(url: String, concurrency: Int, requests: Int, promptTokens: Int, genTokens: Int, apiKey: String? = nil, seed: UInt64 = 1) {
            self.url = url
            self.concurrency = concurrency
            self.requests = requests
            self.promptTokens = promptTokens
            self.genTokens = genTokens
            self.apiKey = apiKey
            self.seed = seed
        }
    }

    /// What one request saw.
    struct Sample: Sendable {
        var timeToFirstToken: Double?
        var interTokenLatencies: [Double] = []
        var generatedTokens = 0
        var error: String?
    }

    public struct Result: Sendable {
        public let requests: Int
        public let errors: Int
        public let firstError: String?
        public let seconds: Double
        public let generatedTokens: Int
        public let promptTokens: Int
        public let timeToFirstToken: Percentiles
        public let interTokenLatency: Percentiles

        /// Generated tokens per second over the whole run, all streams together.
        public var generatedTokensPerSecond: Double { seconds > 0 ? Double(generatedTokens) / seconds : 0 }
        public var requestsPerSecond: Double { seconds > 0 ? Double(requests - errors) / seconds : 0 }
    }

    public struct Percentiles: Sendable {
        public let p50: Double
        public let p99: Double
        public let count: Int

        init(_ values: [Double]) {
            let sorted = values.sorted()
            func at(_ q: Double) -> Double { sorted.isEmpty ? 0 : sorted[min(sorted.count - 1, Int((q * Double(sorted.count - 1)).rounded()))] }
            p50 = at(0.5)
            p99 = at(0.99)
            count = sorted.count
        }
    }

    public let configuration: Configuration

    public init(_ configuration: Configuration) throws(BenchmarkError) {
        guard configuration.concurrency >= 1, configuration.requests >= 1, configuration.promptTokens >= 1, configuration.genTokens >= 1 else {
            throw BenchmarkError("--concurrency, --requests, --prompt-tokens and --gen-tokens must all be ≥ 1")
        }
        guard let url = URL(string: configuration.url), url.scheme == "http" || url.scheme == "https", url.host != nil else {
            throw BenchmarkError("--url must be an http(s) address such as http://127.0.0.1:8000, got '\(configuration.url)'")
        }
        self.configuration = configuration
    }

    /// Runs the requests, `concurrency` at a time.
    public func run() async -> Result {
        var settings = HTTPClient.Configuration(timeout: .init(connect: .seconds(10), read: .seconds(600)))
        // One connection per client in flight (the default pool allows 8 per host and makes the rest wait).
        settings.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: configuration.concurrency)
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: settings)
        let c = configuration
        let start = ContinuousClock.now
        let samples = await withTaskGroup(of: Sample.self) { group in
            var next = 0, samples: [Sample] = []
            func launch() {
                let index = next
                group.addTask { await self.request(index, client: client) }
                next += 1
            }
            for _ in 0..<min(c.concurrency, c.requests) { launch() }
            for await sample in group {
                samples.append(sample)
                if next < c.requests { launch() }
            }
            return samples
        }
        let seconds = Self.seconds(ContinuousClock.now - start)
        try? await client.shutdown()
        let failed = samples.filter { $0.error != nil }
        return Result(requests: samples.count, errors: failed.count, firstError: failed.first?.error, seconds: seconds,
                      generatedTokens: samples.reduce(0) { $0 + $1.generatedTokens }, promptTokens: (samples.count - failed.count) * c.promptTokens,
                      timeToFirstToken: Percentiles(samples.compactMap(\.timeToFirstToken)),
                      interTokenLatency: Percentiles(samples.flatMap(\.interTokenLatencies)))
    }

    /// Prompt `index`: token ids 10…249 (present in any byte-level vocabulary), different for each request.
    func prompt(_ index: Int) -> [Int] {
        var state = configuration.seed &+ UInt64(index) &* 0x9E37_79B9_7F4A_7C15
        return (0..<configuration.promptTokens).map { _ in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return 10 + Int((state >> 33) % 240)
        }
    }

    /// One streamed completion; every token arrives as its own event (`logprobs: 0`).
    func request(_ index: Int, client: HTTPClient) async -> Sample {
        var sample = Sample()
        let body: [String: Any] = ["prompt": prompt(index), "max_tokens": configuration.genTokens, "temperature": 0, "ignore_eos": true,
                                   "stream": true, "logprobs": 0]
        var request = HTTPClientRequest(url: configuration.url.trimmingSuffix("/") + "/v1/completions")
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        if let key = configuration.apiKey { request.headers.add(name: "Authorization", value: "Bearer \(key)") }
        request.body = .bytes(ByteBuffer(bytes: (try? JSONSerialization.data(withJSONObject: body)) ?? Data()))
        let sent = ContinuousClock.now
        var last: ContinuousClock.Instant?
        do {
            let response = try await client.execute(request, timeout: .seconds(600))
            guard response.status == .ok else {
                let text = String(buffer: try await response.body.collect(upTo: 1 << 16))
                sample.error = "HTTP \(response.status.code): \(text.prefix(200))"
                return sample
            }
            var pending = ""
            for try await buffer in response.body {
                pending += String(buffer: buffer)
                while let end = pending.range(of: "\n\n") {
                    let event = String(pending[..<end.lowerBound])
                    pending.removeSubrange(..<end.upperBound)
                    guard event.hasPrefix("data: "), event != "data: [DONE]" else { continue }
                    if event.contains("\"error\"") && !event.contains("\"choices\"") {
                        sample.error = String(event.dropFirst(6).prefix(200))
                        continue
                    }
                    let tokens = event.components(separatedBy: "\"token_logprobs\":[").count - 1
                    guard tokens > 0 else { continue }
                    let now = ContinuousClock.now
                    if let last { sample.interTokenLatencies.append(Self.seconds(now - last)) } else { sample.timeToFirstToken = Self.seconds(now - sent) }
                    last = now
                    sample.generatedTokens += tokens
                }
            }
        } catch {
            sample.error = "\(error)"
        }
        return sample
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) * 1e-18
    }
}

/// A benchmark that cannot run as asked.
public struct BenchmarkError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}

extension String {
    func trimmingSuffix(_ suffix: String) -> String { hasSuffix(suffix) ? String(dropLast(suffix.count)) : self }
}
