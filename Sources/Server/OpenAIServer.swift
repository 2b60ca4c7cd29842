import Engine
import Foundation
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import Tokenizer

/// The OpenAI-compatible HTTP server on an `Engine`: `/v1/chat/completions`, `/v1/completions` (both
/// streamed as server-sent events on request), `/v1/models`, `/health`, `/metrics` and `/generate`.
public struct OpenAIServer: Sendable {
    public let engine: Engine
    public let options: ServerOptions
    let metrics = ServerMetrics()

    public init(engine: Engine, options: ServerOptions) {
        self.engine = engine
        self.options = options
    }

    /// Every route, behind the error and API-key middleware.
    public func router() -> Router<BasicRequestContext> {
        let router = Router()
        router.add(middleware: APIErrorMiddleware(metrics: metrics))
        if let key = options.apiKey { router.add(middleware: APIKeyMiddleware(key: key)) }
        router.get("/health") { _, _ in Self.json(["status": "ok"]) }
        router.get("/v1/models") { _, _ in
            Self.json(["object": "list", "data": [["id": options.modelName, "object": "model", "created": Self.started, "owned_by": "deepseek-swift",
                                                    "max_model_len": engine.contextLength]]])
        }
        router.get("/metrics") { _, _ in
            let text = metrics.render(await engine.statistics())
            return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4"], body: .init(byteBuffer: ByteBuffer(string: text)))
        }
        router.post("/v1/chat/completions") { request, context in
            let body = try JSONDecoder.decodeRequest(ChatCompletionRequest.self, from: try await Self.body(request, limit: options.maxBodyBytes))
            let tokenizer = engine.tokenizer
            let text = try tokenizer.applyChatTemplate(messages: try body.templateMessages(), addGenerationPrompt: true)
            let generation = try body.fields.request(prompt: tokenizer.encode(text, addSpecialTokens: false), logprobs: try body.logprobCount())
            return try await respond(.chat, generation, fields: body.fields)
        }
        router.post("/v1/completions") { request, context in
            let body = try JSONDecoder.decodeRequest(CompletionRequest.self, from: try await Self.body(request, limit: options.maxBodyBytes))
            let generation = try body.fields.request(prompt: prompt(body.prompt), logprobs: try body.logprobCount())
            return try await respond(.completion, generation, fields: body.fields)
        }
        router.post("/generate") { request, context in
            let body = try JSONDecoder.decodeRequest(CompletionRequest.self, from: try await Self.body(request, limit: options.maxBodyBytes))
            guard !body.fields.streams else { throw APIError.invalid("/generate does not stream; use /v1/completions", param: "stream") }
            let generation = try body.fields.request(prompt: prompt(body.prompt), logprobs: try body.logprobCount())
            return try await respond(.simple, generation, fields: body.fields)
        }
        return router
    }

    /// Serves until SIGTERM or SIGINT; then no new request is taken, running ones get `shutdownTimeout`
    /// seconds to finish and are cancelled after that.
    public func run(logger: Logger = Logger(label: "deepseek.serve"), onListening: @escaping @Sendable (Int) async -> Void = { _ in }) async throws {
        let app = Application(router: router(), configuration: .init(address: .hostname(options.host, port: options.port), serverName: "deepseek-swift"),
                              onServerRunning: { channel in await onListening(channel.localAddress?.port ?? 0) }, logger: logger)
        let drain = EngineDrainService(engine: engine, timeout: options.shutdownTimeout)
        let group = ServiceGroup(configuration: .init(services: [.init(service: app), .init(service: drain)],
                                                      gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }

    static let started = Int(Date().timeIntervalSince1970)

    static func body(_ request: Request, limit: Int) async throws -> Data {
        var request = request
        let buffer = try await request.collectBody(upTo: limit)
        return Data(buffer: buffer)
    }

    /// Prompt token ids from a completion request's `prompt`.
    func prompt(_ prompt: CompletionRequest.Prompt) throws -> [Int] {
        switch prompt {
        case let .text(text): engine.tokenizer.encode(text)
        case let .tokens(ids): ids
        }
    }

    static func json(_ object: Any, status: HTTPResponse.Status = .ok) -> Response {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data("{}".utf8)
        return Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}

/// Waits for the signal to shut down, then drains the engine before the HTTP server stops.
struct EngineDrainService: Service {
    let engine: Engine
    let timeout: Double

    func run() async throws {
        try? await gracefulShutdown()
        await engine.drain(timeout: timeout)
    }
}
