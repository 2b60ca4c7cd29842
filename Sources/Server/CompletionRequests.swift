import Engine
import Foundation
import JSON
import Sampling

/// The request fields that `/v1/completions`, `/v1/chat/completions` and `/generate` share, with OpenAI's
/// names (and vLLM's `top_k`, `min_p`, `repetition_penalty` and `ignore_eos`).
struct GenerationFields: Decodable, Sendable {
    var model: String?
    var maxTokens: Int?
    var maxCompletionTokens: Int?
    var temperature: Float?
    var topP: Float?
    var topK: Int?
    var minP: Float?
    var seed: Int64?
    var stop: StopStrings?
    var n: Int?
    var presencePenalty: Float?
    var frequencyPenalty: Float?
    var repetitionPenalty: Float?
    var stream: Bool?
    var streamOptions: StreamOptions?
    var ignoreEos: Bool?

    struct StreamOptions: Decodable, Sendable {
        var includeUsage: Bool?
    }

    /// `stop`: one string or a list.
    struct StopStrings: Decodable, Sendable {
        let values: [String]

        init(from decoder: Decoder) throws {
            let container = try decoder.singleValueContainer()
            if container.decodeNil() {
                values = []
            } else if let one = try? container.decode(String.self) {
                values = [one]
            } else {
                values = try container.decode([String].self)
            }
        }
    }

    /// The engine request for `prompt`, its sampling checked by the engine.
    ///
    /// - Parameter logprobs: alternatives per token to report (nil: no log-probabilities).
    func request(prompt: [Int], logprobs: Int?) throws -> GenerationRequest {
        if let n, n != 1 { throw APIError.invalid("n must be 1 (one choice per request), got \(n)", param: "n") }
        let limit = maxCompletionTokens ?? maxTokens
        if let limit, limit < 1 { throw APIError.invalid("max_tokens must be at least 1, got \(limit)", param: "max_tokens") }
        let stops = stop?.values ?? []
        if stops.count > 16 { throw APIError.invalid("at most 16 stop strings, got \(stops.count)", param: "stop") }
        let sampling = SamplingParameters(
            temperature: temperature ?? 1, topK: topK ?? 0, topP: topP ?? 1, minP: minP ?? 0, repetitionPenalty: repetitionPenalty ?? 1,
            presencePenalty: presencePenalty ?? 0, frequencyPenalty: frequencyPenalty ?? 0, seed: seed.map { UInt64(bitPattern: $0) })
        // The engine checks the sampling values (`SamplingParameters.validate`). Without a limit, the rest of the context (the engine lowers any limit to what the context leaves).
        return GenerationRequest(promptIDs: prompt, sampling: sampling, maxTokens: limit ?? Int.max / 2, stop: stops,
                                 ignoreEOS: ignoreEos ?? false, logprobs: logprobs)
    }

    var streams: Bool { stream ?? false }
    var includeUsage: Bool { streamOptions?.includeUsage ?? false }
}

/// `POST /v1/chat/completions`.
struct ChatCompletionRequest: Decodable, Sendable {
    var fields: GenerationFields
    var messages: [Message]
    var logprobs: Bool?
    var topLogprobs: Int?

    struct Message: Decodable, Sendable {
        var role: String
        var content: String

        enum CodingKeys: String, CodingKey { case role, content }

        /// `content` is a string, a list of parts of which the text ones count, or null.
        init(from decoder: Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            role = try container.decode(String.self, forKey: .role)
            if let text = try? container.decodeIfPresent(String.self, forKey: .content) {
                content = text
            } else if let parts = try? container.decode([Part].self, forKey: .content) {
                content = parts.compactMap(\.text).joined()
            } else if (try? container.decodeNil(forKey: .content)) ?? true {
                content = ""
            } else {
                throw DecodingError.typeMismatch(String.self, .init(codingPath: container.codingPath + [CodingKeys.content],
                                                                    debugDescription: "expected a string or a list of content parts"))
            }
        }

        struct Part: Decodable, Sendable {
            var type: String
            var text: String?
        }
    }

    enum CodingKeys: String, CodingKey { case messages, logprobs, topLogprobs }

    init(from decoder: Decoder) throws {
        fields = try GenerationFields(from: decoder)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        messages = try container.decode([Message].self, forKey: .messages)
        logprobs = try container.decodeIfPresent(Bool.self, forKey: .logprobs)
        topLogprobs = try container.decodeIfPresent(Int.self, forKey: .topLogprobs)
    }

    /// Alternatives per token to report, or nil.
    func logprobCount() throws -> Int? {
        if let topLogprobs, !(0...20).contains(topLogprobs) {
            throw APIError.invalid("top_logprobs must be between 0 and 20, got \(topLogprobs)", param: "top_logprobs")
        }
        if topLogprobs != nil && logprobs != true { throw APIError.invalid("top_logprobs needs logprobs set to true", param: "top_logprobs") }
        return logprobs == true ? topLogprobs ?? 0 : nil
    }

    /// The messages as the chat template reads them.
    func templateMessages() throws -> [JSONValue] {
        guard !messages.isEmpty else { throw APIError.invalid("messages must not be empty", param: "messages") }
        return try messages.map { message in
            guard ["system", "user", "assistant", "developer", "tool"].contains(message.role) else {
                throw APIError.invalid("unknown message role '\(message.role)'", param: "messages")
            }
            return .object(JSONObject([("role", .string(message.role == "developer" ? "system" : message.role)), ("content", .string(message.content))]))
        }
    }
}

/// `POST /v1/completions` (and `/generate`, whose `prompt` is text).
struct CompletionRequest: Decodable, Sendable {
    var fields: GenerationFields
    var prompt: Prompt
    var logprobs: Int?
    var echo: Bool?

    /// `prompt`: text, token ids, or a list of one of either.
    enum Prompt: Decodable, Sendable {
        case text(String)
        case tokens([Int])

        init(from decoder: Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let text = try? container.decode(String.self) {
                self = .text(text)
            } else if let tokens = try? container.decode([Int].self) {
                self = .tokens(tokens)
            } else if let texts = try? container.decode([String].self) {
                guard texts.count == 1 else { throw APIError.invalid("one prompt per request, got \(texts.count)", param: "prompt") }
                self = .text(texts[0])
            } else if let lists = try? container.decode([[Int]].self) {
                guard lists.count == 1 else { throw APIError.invalid("one prompt per request, got \(lists.count)", param: "prompt") }
                self = .tokens(lists[0])
            } else {
                throw DecodingError.typeMismatch(String.self, .init(codingPath: container.codingPath,
                                                                    debugDescription: "expected text, token ids, or a list of one of them"))
            }
        }
    }

    enum CodingKeys: String, CodingKey { case prompt, logprobs, echo }

    init(from decoder: Decoder) throws {
        fields = try GenerationFields(from: decoder)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        prompt = try container.decode(Prompt.self, forKey: .prompt)
        logprobs = try container.decodeIfPresent(Int.self, forKey: .logprobs)
        echo = try container.decodeIfPresent(Bool.self, forKey: .echo)
    }

    func logprobCount() throws -> Int? {
        if let logprobs, !(0...20).contains(logprobs) {
            throw APIError.invalid("logprobs must be between 0 and 20, got \(logprobs)", param: "logprobs")
        }
        if echo == true { throw APIError.invalid("echo is not supported", param: "echo") }
        return logprobs
    }
}

extension JSONDecoder {
    /// Decodes an OpenAI request body (snake_case keys); a malformed body is a 400 naming the field.
    static func decodeRequest<T: Decodable>(_ type: T.Type, from data: Data) throws -> T {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        do {
            return try decoder.decode(type, from: data)
        } catch let error as APIError {
            throw error
        } catch let DecodingError.keyNotFound(key, _) {
            throw APIError.invalid("missing field '\(key.stringValue.snakeCased)'", param: key.stringValue.snakeCased)
        } catch let DecodingError.typeMismatch(_, context), let DecodingError.valueNotFound(_, context) {
            let path = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue.snakeCased }.joined(separator: ".")
            throw APIError.invalid("field '\(path)' has the wrong type (\(context.debugDescription))", param: path)
        } catch {
            throw APIError.invalid("the body is not valid JSON")
        }
    }
}

extension String {
    /// `maxTokens` → `max_tokens`, for naming a field as the client sent it.
    var snakeCased: String {
        var out = ""
        for character in self {
            if character.isUppercase { out += "_" + character.lowercased() } else { out.append(character) }
        }
        return out
    }
}
