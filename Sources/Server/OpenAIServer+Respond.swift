import Engine
import Foundation
import Hummingbird
import NIOCore

extension OpenAIServer {
    /// Submits `generation` and answers with the whole response, or streams it as server-sent events.
    ///
    /// A streamed response whose client goes away stops reading the engine's events, which cancels the
    /// request and frees its cache blocks.
    func respond(_ kind: ResponseKind, _ generation: GenerationRequest, fields: GenerationFields) async throws -> Response {
        let received = ContinuousClock.now
        let events = try await engine.submit(generation)
        let responses = CompletionResponses(kind: kind, model: fields.model ?? options.modelName, tokenizer: engine.tokenizer)
        var timing = TokenTiming(received: received, metrics: metrics)
        guard fields.streams else {
            var text = "", records: [CompletionResponses.Logprob] = []
            for try await event in events {
                switch event {
                case let .token(id, piece, logprobs):
                    timing.token()
                    text += piece
                    if let logprobs { records.append(.init(id: id, values: logprobs)) }
                case let .text(piece): text += piece
                case let .finished(reason, usage):
                    timing.finished(usage)
                    return Self.json(responses.complete(text: text, reason: reason, usage: usage, logprobs: records))
                }
            }
            throw APIError(.internalServerError, "the request ended without finishing")
        }
        let includeUsage = fields.includeUsage, startTiming = timing
        let body = ResponseBody { writer in
            func send(_ object: Any) async throws {
                let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
                var buffer = ByteBuffer(string: "data: ")
                buffer.writeBytes(data)
                buffer.writeString("\n\n")
                try await writer.write(buffer)
            }
            var timing = startTiming
            var offset = 0
            do {
                if kind == .chat { try await send(responses.chunk(text: "", role: true, includeUsage: includeUsage)) }
                for try await event in events {
                    switch event {
                    case let .token(id, piece, logprobs):
                        timing.token()
                        let records = logprobs.map { [CompletionResponses.Logprob(id: id, values: $0)] } ?? []
                        // Text a stop string may still claim is held back; a token with log-probabilities is always sent.
                        if !piece.isEmpty || !records.isEmpty {
                            try await send(responses.chunk(text: piece, logprobs: records, textOffset: offset, includeUsage: includeUsage))
                        }
                        offset += piece.utf16.count
                    case let .text(piece):
                        try await send(responses.chunk(text: piece, includeUsage: includeUsage))
                        offset += piece.utf16.count
                    case let .finished(reason, usage):
                        timing.finished(usage)
                        try await send(responses.chunk(text: kind == .chat ? nil : "", reason: reason, includeUsage: includeUsage))
                        if includeUsage { try await send(responses.usageChunk(usage)) }
                    }
                }
            } catch let error where !(error is CancellationError) && !(error is IOError) && !(error is ChannelError) {
                // The engine failed the request after the headers went out: an error event, then the end.
                let apiError = APIError(error)
                try await send(["error": ["message": apiError.message, "type": apiError.type, "code": apiError.status.code]])
            }
            try await writer.write(ByteBuffer(string: "data: [DONE]\n\n"))
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: [.contentType: "text/event-stream", .cacheControl: "no-cache"], body: body)
    }
}

/// Time to first token and between tokens of one request, into the metrics.
struct TokenTiming {
    let received: ContinuousClock.Instant
    let metrics: ServerMetrics
    var last: ContinuousClock.Instant?

    init(received: ContinuousClock.Instant, metrics: ServerMetrics) {
        self.received = received
        self.metrics = metrics
    }

    mutating func token() {
        let now = ContinuousClock.now
        if let last {
            metrics.recordInterToken((now - last).seconds)
        } else {
            metrics.recordFirstToken(after: (now - received).seconds)
        }
        last = now
    }

    func finished(_ usage: Usage) {
        metrics.recordFinished(promptTokens: usage.promptTokens, generated: usage.completionTokens, seconds: (ContinuousClock.now - received).seconds)
    }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) * 1e-18 }
}
