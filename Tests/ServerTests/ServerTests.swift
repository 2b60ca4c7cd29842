import Engine
import Foundation
import Hummingbird
import HummingbirdTesting
import Model
import NIOCore
import Testing
import Tokenizer
@testable import Server

let modelsRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("Fixtures/models")

func makeServer(apiKey: String? = nil, maxBodyBytes: Int = 1 << 20, maxWaiting: Int = 64) throws -> OpenAIServer {
    let path = modelsRoot.appendingPathComponent("v3-yarn").path
    let engine = try Engine(model: try Transformer(directory: path), tokenizer: try Tokenizer(directory: path),
                            options: EngineOptions(contextLength: 128, cachePositions: 1024, blockSize: 16, maxRunning: 4, maxWaiting: maxWaiting))
    return OpenAIServer(engine: engine, options: ServerOptions(apiKey: apiKey, modelName: "tiny", maxBodyBytes: maxBodyBytes))
}

/// The JSON object of a response body.
func object(_ response: TestResponse) throws -> [String: Any] {
    try #require(try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any])
}

/// The `data:` payloads of a server-sent-events body, `[DONE]` included.
func events(_ response: TestResponse) -> [String] {
    String(buffer: response.body).components(separatedBy: "\n\n").filter { !$0.isEmpty }.map { event in
        event.hasPrefix("data: ") ? String(event.dropFirst(6)) : "NOT DATA: \(event)"
    }
}

func json(_ text: String) throws -> [String: Any] {
    try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
}

extension TestClientProtocol {
    func post(_ uri: String, _ body: String, headers: HTTPFields = [.contentType: "application/json"]) async throws -> TestResponse {
        try await execute(uri: uri, method: .post, headers: headers, body: ByteBuffer(string: body))
    }
}

/// How a test reaches the server: in process (the router called directly) or over loopback TCP.
enum Transport: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case inProcess, loopback

    var setup: TestingSetup { self == .inProcess ? .router : .live }
    var testDescription: String { rawValue }
}

/// The server as an application on a free loopback port.
func application(_ server: OpenAIServer) -> some ApplicationProtocol {
    Application(router: server.router(), configuration: .init(address: .hostname("127.0.0.1", port: 0)))
}

/// Every endpoint in process and over loopback, streamed and not, against the engine's own output.
@Suite struct ServerTests {
    @Test(arguments: Transport.allCases)
    func healthModelsAndMetrics(over transport: Transport) async throws {
        let server = try makeServer()
        try await application(server).test(transport.setup) { client in
            let health = try await client.execute(uri: "/health", method: .get)
            let status = try object(health)["status"] as? String
            #expect(health.status == .ok && status == "ok")
            let models = try object(try await client.execute(uri: "/v1/models", method: .get))
            let data = try #require(models["data"] as? [[String: Any]])
            #expect(models["object"] as? String == "list" && data.first?["id"] as? String == "tiny" && data.first?["object"] as? String == "model")
            _ = try await client.post("/v1/completions", #"{"prompt": [0, 5, 9], "max_tokens": 3, "temperature": 0, "ignore_eos": true}"#)
            let metrics = String(buffer: try await client.execute(uri: "/metrics", method: .get).body)
            for name in ["deepseek_requests_total{status=\"200\"}", "deepseek_generation_tokens_total 3", "deepseek_prompt_tokens_total 3",
                         "deepseek_time_to_first_token_seconds_count 1", "deepseek_inter_token_latency_seconds_count 2",
                         "deepseek_requests_running 0", "deepseek_requests_waiting 0", "deepseek_kv_cache_usage_ratio 0",
                         "deepseek_prefix_cache_hits_total", "deepseek_kv_cache_blocks_total 64"] {
                #expect(metrics.contains(name), "\(name) missing from /metrics")
            }
        }
    }

    @Test(arguments: Transport.allCases)
    func completionsMatchTheEngineStreamedOrNot(over transport: Transport) async throws {
        let server = try makeServer()
        let direct = try await collect(server.engine, GenerationRequest(promptIDs: [0, 5, 9], sampling: .greedy, maxTokens: 6, ignoreEOS: true))
        try await application(server).test(transport.setup) { client in
            let body = #"{"model": "tiny", "prompt": [0, 5, 9], "max_tokens": 6, "temperature": 0, "ignore_eos": true"#
            let whole = try object(try await client.post("/v1/completions", body + "}"))
            let choice = try #require((whole["choices"] as? [[String: Any]])?.first)
            #expect(whole["object"] as? String == "text_completion" && (whole["id"] as? String)?.hasPrefix("cmpl-") == true)
            #expect(choice["text"] as? String == direct.text && choice["finish_reason"] as? String == "length")
            let usage = try #require(whole["usage"] as? [String: Int])
            #expect(usage == ["prompt_tokens": 3, "completion_tokens": 6, "total_tokens": 9])

            let streamed = try await client.post("/v1/completions", body + #", "stream": true, "stream_options": {"include_usage": true}}"#)
            #expect(streamed.headers[.contentType] == "text/event-stream")
            let payloads = events(streamed)
            #expect(payloads.last == "[DONE]")
            let chunks = try payloads.dropLast().map(json)
            let text = chunks.compactMap { ($0["choices"] as? [[String: Any]])?.first?["text"] as? String }.joined()
            #expect(text == direct.text)
            #expect(chunks.compactMap { ($0["choices"] as? [[String: Any]])?.first?["finish_reason"] as? String } == ["length"])
            #expect((chunks.last?["usage"] as? [String: Int])?["completion_tokens"] == 6 && (chunks.last?["choices"] as? [Any])?.isEmpty == true)
        }
    }

    @Test(arguments: Transport.allCases)
    func chatCompletionsStreamedOrNot(over transport: Transport) async throws {
        let server = try makeServer()
        try await application(server).test(transport.setup) { client in
            let body = #"{"messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": [{"type": "text", "text": "Hello"}]}], "max_completion_tokens": 5, "temperature": 0, "ignore_eos": true, "logprobs": true, "top_logprobs": 2"#
            let whole = try object(try await client.post("/v1/chat/completions", body + "}"))
            let choice = try #require((whole["choices"] as? [[String: Any]])?.first)
            let message = try #require(choice["message"] as? [String: Any])
            #expect(whole["object"] as? String == "chat.completion" && message["role"] as? String == "assistant")
            let content = try #require((choice["logprobs"] as? [String: Any])?["content"] as? [[String: Any]])
            #expect(content.count == 5 && (content[0]["top_logprobs"] as? [Any])?.count == 2)
            #expect(content.map { $0["token"] as? String ?? "" }.joined() == message["content"] as? String)

            let payloads = events(try await client.post("/v1/chat/completions", body + #", "stream": true}"#))
            #expect(payloads.last == "[DONE]")
            let chunks = try payloads.dropLast().map(json)
            #expect(chunks.allSatisfy { $0["object"] as? String == "chat.completion.chunk" })
            let deltas = chunks.compactMap { ($0["choices"] as? [[String: Any]])?.first?["delta"] as? [String: Any] }
            #expect(deltas.first?["role"] as? String == "assistant")
            #expect(deltas.compactMap { $0["content"] as? String }.joined() == message["content"] as? String)
            #expect(((chunks.last?["choices"] as? [[String: Any]])?.first?["finish_reason"] as? String) == "length")
        }
    }

    @Test(arguments: Transport.allCases)
    func generateReturnsText(over transport: Transport) async throws {
        let server = try makeServer()
        let direct = try await collect(server.engine, GenerationRequest(promptIDs: server.engine.tokenizer.encode("Once"), sampling: .greedy,
                                                                        maxTokens: 4, ignoreEOS: true))
        try await application(server).test(transport.setup) { client in
            let reply = try object(try await client.post("/generate", #"{"prompt": "Once", "max_tokens": 4, "temperature": 0, "ignore_eos": true}"#))
            #expect(reply["text"] as? String == direct.text && reply["finish_reason"] as? String == "length")
        }
    }

    /// Each bad input gets its status and an OpenAI error object.
    @Test(arguments: Transport.allCases)
    func badInputGetsItsStatus(over transport: Transport) async throws {
        let server = try makeServer(apiKey: "sesame", maxBodyBytes: 2000)
        let key: HTTPFields = [.contentType: "application/json", .authorization: "Bearer sesame"]
        try await application(server).test(transport.setup) { client in
            let cases: [(String, String, HTTPFields, HTTPResponse.Status, String?)] = [
                ("/v1/completions", "{not json", key, .badRequest, nil),
                ("/v1/completions", #"{"max_tokens": 3}"#, key, .badRequest, "prompt"),
                ("/v1/completions", #"{"prompt": "a", "temperature": -1}"#, key, .badRequest, nil),
                ("/v1/completions", #"{"prompt": "a", "temperature": "hot"}"#, key, .badRequest, "temperature"),
                ("/v1/completions", #"{"prompt": "a", "n": 2}"#, key, .badRequest, "n"),
                ("/v1/completions", #"{"prompt": "a", "max_tokens": 0}"#, key, .badRequest, "max_tokens"),
                ("/v1/completions", #"{"prompt": [0, 99999]}"#, key, .badRequest, nil),
                ("/v1/completions", #"{"prompt": "a", "logprobs": 50}"#, key, .badRequest, "logprobs"),
                ("/v1/chat/completions", #"{"messages": []}"#, key, .badRequest, "messages"),
                ("/v1/chat/completions", #"{"messages": [{"role": "wizard", "content": "hi"}]}"#, key, .badRequest, "messages"),
                ("/v1/completions", #"{"prompt": "a"}"#, [.contentType: "application/json"], .unauthorized, nil),
                ("/v1/completions", #"{"prompt": "a"}"#, [.authorization: "Bearer wrong"], .unauthorized, nil),
                ("/v1/nothing", "{}", key, .notFound, nil),
                ("/v1/completions", #"{"prompt": ""# + String(repeating: "a", count: 3000) + #""}"#, key, .contentTooLarge, nil),
            ]
            for (uri, body, headers, status, param) in cases {
                let response = try await client.post(uri, body, headers: headers)
                #expect(response.status == status, "\(uri) \(body.prefix(60)): \(response.status)")
                let error = try object(response)["error"] as? [String: Any]
                #expect(error?["message"] is String && error?["type"] is String, "\(uri) \(body.prefix(60))")
                if let param { #expect(error?["param"] as? String == param, "\(body.prefix(60)): param \(String(describing: error?["param"]))") }
            }
            // Health needs no key.
            let health = try await client.execute(uri: "/health", method: .get).status
            #expect(health == .ok)
        }
    }

    @Test(arguments: Transport.allCases)
    func aFullQueueIs429AndADrainingServerIs503(over transport: Transport) async throws {
        let full = try makeServer(maxWaiting: 0)
        try await application(full).test(transport.setup) { client in
            let status = try await client.post("/v1/completions", #"{"prompt": "a"}"#).status
            #expect(status == .tooManyRequests)
        }
        let draining = try makeServer()
        await draining.engine.drain(timeout: 0)
        try await application(draining).test(transport.setup) { client in
            let status = try await client.post("/v1/completions", #"{"prompt": "a"}"#).status
            #expect(status == .serviceUnavailable)
        }
    }

    /// Over loopback: a client that hangs up in the middle of a stream cancels its request, and every
    /// cache block comes back.
    @Test func aClientThatHangsUpCancelsItsRequest() async throws {
        let server = try makeServer()
        let app = Application(router: server.router(), configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        try await app.test(.live) { client in
            let port = try #require(client.port)
            let body = #"{"prompt": [0, 1, 2], "max_tokens": 120, "temperature": 0, "ignore_eos": true, "stream": true}"#
            let received = try RawHTTPClient.postAndHangUp(port: port, path: "/v1/completions", body: body, afterEvents: 3)
            #expect(received >= 3)
            var statistics = await server.engine.statistics()
            for _ in 0..<300 where statistics.counters.cancelled == 0 || statistics.blocksUsed > 0 {
                try await Task.sleep(nanoseconds: 10_000_000)
                statistics = await server.engine.statistics()
            }
            #expect(statistics.counters.cancelled == 1 && statistics.blocksUsed == 0 && statistics.running == 0)
            #expect(statistics.counters.generatedTokens < 120)
            // The server goes on serving.
            let after = try await client.post("/v1/completions", #"{"prompt": [0, 1], "max_tokens": 2, "ignore_eos": true}"#)
            #expect(after.status == .ok)
        }
    }
}

/// A request's text through the engine directly.
func collect(_ engine: Engine, _ request: GenerationRequest) async throws -> (text: String, ids: [Int]) {
    var text = "", ids: [Int] = []
    for try await event in try await engine.submit(request) {
        switch event {
        case let .token(id, piece, _): text += piece; ids.append(id)
        case let .text(piece): text += piece
        case .finished: break
        }
    }
    return (text, ids)
}
