/// Errors of a request that are not the model's or the sampler's.
public enum EngineError: Error, CustomStringConvertible, Equatable {
    case invalidMaxTokens(Int)
    case invalidBenchmark(String)
    case invalidEvaluation(String)

    public var description: String {
        switch self {
        case let .invalidMaxTokens(n): "max_tokens must be ≥ 0, got \(n)"
        case let .invalidBenchmark(detail): "benchmark: \(detail)"
        case let .invalidEvaluation(detail): "perplexity: \(detail)"
        }
    }
}
