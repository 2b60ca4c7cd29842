/// How the next token is chosen from the logits. Defaults leave the distribution unchanged;
/// `temperature == 0` means greedy (argmax).
public struct SamplingParameters: Sendable, Equatable {
    public var temperature: Float = 1
    /// Keep only the `topK` most likely tokens (0: off).
    public var topK: Int = 0
    /// Keep the smallest set of tokens whose probability sums to at least `topP` (1: off).
    public var topP: Float = 1
    /// Drop tokens less likely than `minP` × the most likely one (0: off).
    public var minP: Float = 0
    /// CTRL-style penalty on every token already in the prompt or output (1: off).
    public var repetitionPenalty: Float = 1
    /// OpenAI-style penalties on generated tokens: once per token present, and per occurrence.
    public var presencePenalty: Float = 0
    public var frequencyPenalty: Float = 0
    /// Fixes the random stream: the same seed gives the same tokens.
    public var seed: UInt64?

    public init(temperature: Float = 1, topK: Int = 0, topP: Float = 1, minP: Float = 0, repetitionPenalty: Float = 1,
                presencePenalty: Float = 0, frequencyPenalty: Float = 0, seed: UInt64? = nil) {
        self.temperature = temperature
        self.topK = topK
        self.topP = topP
        self.minP = minP
        self.repetitionPenalty = repetitionPenalty
        self.presencePenalty = presencePenalty
        self.frequencyPenalty = frequencyPenalty
        self.seed = seed
    }

    public static let greedy = SamplingParameters(temperature: 0)

    /// Rejects out-of-range values with a message naming the parameter.
    public func validate() throws(SamplingError) {
        guard temperature.isFinite, temperature >= 0 else { throw .invalid("temperature", "\(temperature)", "a number ≥ 0") }
        guard topK >= 0 else { throw .invalid("top_k", "\(topK)", "an integer ≥ 0") }
        guard topP > 0, topP <= 1 else { throw .invalid("top_p", "\(topP)", "a number in (0, 1]") }
        guard minP >= 0, minP <= 1 else { throw .invalid("min_p", "\(minP)", "a number in [0, 1]") }
        guard repetitionPenalty.isFinite, repetitionPenalty > 0 else {
            throw .invalid("repetition_penalty", "\(repetitionPenalty)", "a number > 0")
        }
        guard presencePenalty.isFinite, abs(presencePenalty) <= 2 else { throw .invalid("presence_penalty", "\(presencePenalty)", "a number in [-2, 2]") }
        guard frequencyPenalty.isFinite, abs(frequencyPenalty) <= 2 else { throw .invalid("frequency_penalty", "\(frequencyPenalty)", "a number in [-2, 2]") }
    }
}

/// A sampling parameter outside its range; renders as one line naming it.
public enum SamplingError: Error, CustomStringConvertible, Equatable {
    case invalid(String, String, String)

    public var description: String {
        switch self {
        case let .invalid(name, value, expected): "\(name) must be \(expected), got \(value)"
        }
    }
}
