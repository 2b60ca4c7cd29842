import ArgumentParser
import Engine
import Sampling

/// Sampling flags; maps onto `SamplingParameters`.
struct SamplingOptions: ParsableArguments {
    @Option(help: "Sampling temperature; 0 is greedy.") var temperature: Float = 0.6
    @Option(name: .customLong("top-p"), help: "Nucleus sampling mass (1 = off).") var topP: Float = 0.95
    @Option(name: .customLong("top-k"), help: "Keep the K most likely tokens (0 = off).") var topK: Int = 0
    @Option(name: .customLong("min-p"), help: "Drop tokens below this fraction of the best one's probability.") var minP: Float = 0
    @Option(name: .customLong("repetition-penalty"), help: "Penalty on tokens already seen (1 = off).") var repetitionPenalty: Float = 1
    @Option(help: "Random seed: the same seed gives the same output.") var seed: UInt64?

    var parameters: SamplingParameters {
        SamplingParameters(temperature: temperature, topK: topK, topP: topP, minP: minP,
                           repetitionPenalty: repetitionPenalty, seed: seed)
    }

    func validate() throws {
        do { try parameters.validate() } catch { throw ValidationError(error.description) }
    }
}

/// When to stop; maps onto the limits of a `GenerationRequest`.
struct StoppingOptions: ParsableArguments {
    @Option(name: .customLong("max-tokens"), help: "Most tokens to generate.") var maxTokens: Int = 256
    @Option(name: .customLong("stop"), help: "Stop before this string (repeatable).") var stop: [String] = []
    @Flag(name: .customLong("ignore-eos"), help: "Keep generating past end-of-sequence.") var ignoreEOS = false
    @Option(help: "Context length (default: the model's max_position_embeddings).") var context: Int?

    func validate() throws {
        guard maxTokens >= 0 else { throw ValidationError("--max-tokens must be ≥ 0, got \(maxTokens)") }
        if let context, context < 1 { throw ValidationError("--context must be ≥ 1, got \(context)") }
    }

    func request(prompt: [Int], sampling: SamplingParameters) -> GenerationRequest {
        GenerationRequest(promptIDs: prompt, sampling: sampling, maxTokens: maxTokens, stop: stop, ignoreEOS: ignoreEOS)
    }
}
