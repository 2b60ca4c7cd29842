/// Errors of a request that are not the model's or the sampler's.
public enum EngineError: Error, CustomStringConvertible, Equatable {
    case invalidMaxTokens(Int)
    case invalidBenchmark(String)
    case invalidEvaluation(String)
    case emptyPrompt
    /// A request that could not fit even if it had the whole KV cache to itself.
    case exceedsCache(positions: Int, capacity: Int)

    public var description: String {
        switch self {
        case let .invalidMaxTokens(n): "max_tokens must be ≥ 0, got \(n)"
        case let .invalidBenchmark(detail): "benchmark: \(detail)"
        case let .invalidEvaluation(detail): "perplexity: \(detail)"
        case .emptyPrompt: "the prompt is empty"
        case let .exceedsCache(positions, capacity):
            "the request needs \(positions) positions (prompt plus max tokens) but the whole KV cache holds \(capacity)"
        }
    }
}
