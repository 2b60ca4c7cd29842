/// Errors of a request that are not the model's or the sampler's.
public enum EngineError: Error, CustomStringConvertible, Equatable {
    case invalidMaxTokens(Int)
    case invalidBenchmark(String)
    case invalidEvaluation(String)
    case emptyPrompt
    /// A request that could not fit even if it had the whole KV cache to itself.
    case exceedsCache(positions: Int, capacity: Int)
    case invalidOption(String, String)
    case invalidLogprobs(Int)
    /// Too many requests are waiting to start.
    case queueFull(waiting: Int)
    /// The engine is draining before shutdown and takes no new requests.
    case shuttingDown
    /// Requests were active but none could be scheduled (a bug, reported rather than spun on).
    case stalled

    public var description: String {
        switch self {
        case let .invalidMaxTokens(n): "max_tokens must be ≥ 0, got \(n)"
        case let .invalidBenchmark(detail): "benchmark: \(detail)"
        case let .invalidEvaluation(detail): "perplexity: \(detail)"
        case .emptyPrompt: "the prompt is empty"
        case let .exceedsCache(positions, capacity):
            "the request needs \(positions) positions (prompt plus max tokens) but the whole KV cache holds \(capacity)"
        case let .invalidOption(option, detail): "\(option) \(detail)"
        case let .invalidLogprobs(n): "logprobs must be between 0 and 20, got \(n)"
        case let .queueFull(waiting): "the server is busy: \(waiting) requests are already waiting"
        case .shuttingDown: "the server is shutting down"
        case .stalled: "the scheduler could not place any request (internal error)"
        }
    }
}
