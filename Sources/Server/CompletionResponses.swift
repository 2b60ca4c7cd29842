import Engine
import Foundation
import Tokenizer

/// Which API a response follows.
enum ResponseKind: Sendable {
    /// `/v1/chat/completions`: `chat.completion` and `chat.completion.chunk` objects.
    case chat
    /// `/v1/completions`: `text_completion` objects.
    case completion
    /// `/generate`: `{"text", ...}`.
    case simple
}

/// Builds the OpenAI JSON objects of one request: the whole response, or its stream's chunks.
struct CompletionResponses: Sendable {
    let kind: ResponseKind
    let id: String
    let model: String
    let created = Int(Date().timeIntervalSince1970)
    let tokenizer: Tokenizer

    init(kind: ResponseKind, model: String, tokenizer: Tokenizer) {
        self.kind = kind
        self.model = model
        self.tokenizer = tokenizer
        id = (kind == .chat ? "chatcmpl-" : "cmpl-") + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
    }

    /// One generated token's log-probability record.
    struct Logprob {
        let id: Int
        let values: TokenLogprobs
    }

    func text(of token: Int) -> String { (try? tokenizer.decode([token])) ?? "" }

    func usage(_ usage: Usage) -> [String: Any] {
        ["prompt_tokens": usage.promptTokens, "completion_tokens": usage.completionTokens, "total_tokens": usage.totalTokens]
    }

    /// The `logprobs` object of a choice, or null.
    func logprobs(_ records: [Logprob], textOffset: Int = 0) -> Any {
        guard !records.isEmpty else { return NSNull() }
        switch kind {
        case .chat:
            func entry(_ id: Int, _ logprob: Float) -> [String: Any] {
                let text = self.text(of: id)
                return ["token": text, "logprob": Double(logprob), "bytes": Array(text.utf8).map { Int($0) }]
            }
            return ["content": records.map { record -> [String: Any] in
                var item = entry(record.id, record.values.logprob)
                item["top_logprobs"] = record.values.top.map { entry($0.id, $0.logprob) }
                return item
            }]
        case .completion, .simple:
            var offsets: [Int] = [], offset = textOffset
            let tokens = records.map { text(of: $0.id) }
            for token in tokens {
                offsets.append(offset)
                offset += token.utf16.count
            }
            return [
                "tokens": tokens,
                "token_logprobs": records.map { Double($0.values.logprob) },
                "top_logprobs": records.map { record in
                    Dictionary(record.values.top.map { (text(of: $0.id), Double($0.logprob)) }, uniquingKeysWith: { first, _ in first })
                },
                "text_offset": offsets,
            ]
        }
    }

    /// The whole response of a request that is not streamed.
    func complete(text: String, reason: FinishReason, usage: Usage, logprobs records: [Logprob]) -> [String: Any] {
        switch kind {
        case .chat:
            return ["id": id, "object": "chat.completion", "created": created, "model": model, "usage": self.usage(usage),
                    "choices": [["index": 0, "message": ["role": "assistant", "content": text], "logprobs": logprobs(records),
                                 "finish_reason": reason.rawValue]]]
        case .completion:
            return ["id": id, "object": "text_completion", "created": created, "model": model, "usage": self.usage(usage),
                    "choices": [["index": 0, "text": text, "logprobs": logprobs(records), "finish_reason": reason.rawValue]]]
        case .simple:
            return ["text": text, "finish_reason": reason.rawValue, "model": model, "usage": self.usage(usage)]
        }
    }

    /// A stream chunk carrying `text` (and its tokens' log-probabilities), or the finish.
    func chunk(text: String?, role: Bool = false, reason: FinishReason? = nil, logprobs records: [Logprob] = [], textOffset: Int = 0,
               includeUsage: Bool) -> [String: Any] {
        var choice: [String: Any] = ["index": 0, "logprobs": logprobs(records, textOffset: textOffset), "finish_reason": reason?.rawValue ?? NSNull()]
        if kind == .chat {
            var delta: [String: Any] = [:]
            if role { delta["role"] = "assistant" }
            if let text { delta["content"] = text }
            choice["delta"] = delta
        } else {
            choice["text"] = text ?? ""
        }
        var object: [String: Any] = ["id": id, "object": kind == .chat ? "chat.completion.chunk" : "text_completion", "created": created,
                                     "model": model, "choices": [choice]]
        if includeUsage { object["usage"] = NSNull() }
        return object
    }

    /// The last chunk before `[DONE]` when the client asked for usage: no choices, the counts.
    func usageChunk(_ usage: Usage) -> [String: Any] {
        ["id": id, "object": kind == .chat ? "chat.completion.chunk" : "text_completion", "created": created, "model": model,
         "choices": [Any](), "usage": self.usage(usage)]
    }
}
