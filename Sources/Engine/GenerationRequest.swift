import Foundation
import Kernels
import Sampling

/// One completion to run: prompt tokens, how to sample, and when to stop.
public struct GenerationRequest: Sendable {
    public var promptIDs: [Int]
    public var sampling: SamplingParameters
    /// Most tokens to generate (the context may end generation sooner).
    public var maxTokens: Int
    /// Generation ends before the first occurrence of any of these strings (not included in the text).
    public var stop: [String]
    /// Keep generating past end-of-sequence tokens.
    public var ignoreEOS: Bool
    /// Further token ids that end generation like end-of-sequence (not emitted).
    public var stopTokenIDs: [Int]
    /// Report each generated token's log-probability and this many most likely alternatives (nil: none).
    public var logprobs: Int?

    public init(promptIDs: [Int], sampling: SamplingParameters = SamplingParameters(), maxTokens: Int = 256,
                stop: [String] = [], ignoreEOS: Bool = false, stopTokenIDs: [Int] = [], logprobs: Int? = nil) {
        self.stopTokenIDs = stopTokenIDs
        self.logprobs = logprobs
        self.promptIDs = promptIDs
        self.sampling = sampling
        self.maxTokens = maxTokens
        self.stop = stop
        self.ignoreEOS = ignoreEOS
    }
}

/// Why generation ended, with OpenAI's names.
public enum FinishReason: String, Sendable, Equatable {
    /// An end-of-sequence token or a stop string.
    case stop
    /// `maxTokens` reached or the context is full.
    case length
}

/// Token counts and timings of one request.
public struct Usage: Sendable, Equatable {
    public var promptTokens: Int
    public var completionTokens: Int
    public var prefillSeconds: Double
    public var decodeSeconds: Double

    public var totalTokens: Int { promptTokens + completionTokens }
    public var prefillTokensPerSecond: Double { prefillSeconds > 0 ? Double(promptTokens) / prefillSeconds : 0 }
    /// Decode speed over the tokens after the first (the first comes from the prefill's logits).
    public var decodeTokensPerSecond: Double { decodeSeconds > 0 ? Double(max(completionTokens - 1, 0)) / decodeSeconds : 0 }
}

/// A generated token's log-probability under the model (the logits before sampling changes them), and
/// the most likely tokens with theirs, most likely first.
public struct TokenLogprobs: Sendable, Equatable {
    public let logprob: Float
    public let top: [(id: Int, logprob: Float)]

    public init(logprob: Float, top: [(id: Int, logprob: Float)]) {
        self.logprob = logprob
        self.top = top
    }

    public static func == (a: TokenLogprobs, b: TokenLogprobs) -> Bool {
        a.logprob == b.logprob && a.top.map(\.id) == b.top.map(\.id) && a.top.map(\.logprob) == b.top.map(\.logprob)
    }

    /// `chosen`'s log-probability in `logits` and the `count` most likely tokens'.
    public init(logits: [Float], chosen: Int, count: Int) {
        let largest = logits.max() ?? 0
        let logSum = largest + Float(log(logits.reduce(0.0) { $0 + exp(Double($1 - largest)) }))
        logprob = logits[chosen] - logSum
        top = topIndices(logits, count: min(count, logits.count)).map { ($0, logits[$0] - logSum) }
    }
}

/// What a running request reports.
public enum GenerationEvent: Sendable, Equatable {
    /// A generated token and the text it completes (possibly empty, or held back by a stop string), with
    /// its log-probabilities when the request asked for them.
    case token(id: Int, text: String, logprobs: TokenLogprobs? = nil)
    /// Text released at the end that no single token completed (held for a possible stop string,
    /// or an unfinished UTF-8 sequence shown as U+FFFD).
    case text(String)
    case finished(FinishReason, Usage)
}
