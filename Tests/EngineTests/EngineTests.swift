import Foundation
import Model
import Sampling
import Testing
import Tokenizer
@testable import Engine

let modelsRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("Fixtures/models")

func makeEngine(_ name: String = "v3-yarn", context: Int? = nil, options: EngineOptions? = nil) throws -> Engine {
    let path = modelsRoot.appendingPathComponent(name).path
    let model = try Transformer(directory: path)
    return try Engine(model: model, tokenizer: try Tokenizer(directory: path),
                      options: options ?? EngineOptions(contextLength: context, cachePositions: context ?? 256, maxRunning: 1))
}

/// The prompt of a golden fixture's `reference.json`.
func referencePrompt(_ name: String) throws -> [Int] {
    let json = try Data(contentsOf: modelsRoot.appendingPathComponent(name).appendingPathComponent("reference.json"))
    return (try JSONSerialization.jsonObject(with: json) as? [String: Any])?["prompt_ids"] as? [Int] ?? []
}

/// A request's events gathered: token ids, text, the finish, and log-probabilities when asked for.
struct Outcome: Sendable {
    var ids: [Int] = []
    var text = ""
    var logprobs: [TokenLogprobs] = []
    var reason: FinishReason = .length
    var usage = Usage(promptTokens: 0, completionTokens: 0, prefillSeconds: 0, decodeSeconds: 0)
}

/// Runs `request` on `engine` to its end.
func run(_ engine: Engine, _ request: GenerationRequest) async throws -> Outcome {
    var outcome = Outcome()
    for try await event in try await engine.submit(request) {
        switch event {
        case let .token(id, piece, logprobs):
            outcome.ids.append(id)
            outcome.text += piece
            if let logprobs { outcome.logprobs.append(logprobs) }
        case let .text(piece): outcome.text += piece
        case let .finished(reason, usage): (outcome.reason, outcome.usage) = (reason, usage)
        }
    }
    return outcome
}

/// One request at a time through the engine: the generation loop's stopping rules and limits.
@Suite struct EngineTests {
    @Test func greedyGenerationMatchesTheReference() async throws {
        let engine = try makeEngine()
        let json = try Data(contentsOf: modelsRoot.appendingPathComponent("v3-yarn/reference.json"))
        let reference = try JSONSerialization.jsonObject(with: json) as! [String: Any]
        let prompt = reference["prompt_ids"] as! [Int], greedy = reference["greedy_ids"] as! [Int]
        let result = try await run(engine, GenerationRequest(promptIDs: prompt, sampling: .greedy, maxTokens: greedy.count, ignoreEOS: true))
        #expect(result.ids == greedy)
        #expect(result.reason == .length)
        #expect(result.usage.promptTokens == prompt.count && result.usage.completionTokens == greedy.count)
        #expect(result.text == (try engine.tokenizer.decode(greedy, skipSpecialTokens: true)))
    }

    @Test func sameSeedSameTokensDifferentSeedDifferentTokens() async throws {
        let engine = try makeEngine()
        func tokens(_ seed: UInt64) async throws -> [Int] {
            try await run(engine, GenerationRequest(promptIDs: [0, 5, 9], sampling: SamplingParameters(temperature: 1.5, seed: seed),
                                                 maxTokens: 12, ignoreEOS: true)).ids
        }
        #expect(try await tokens(3) == tokens(3))
        #expect(try await tokens(3) != tokens(4))
    }

    @Test func stopStringEndsGenerationAndIsNotEmitted() async throws {
        let engine = try makeEngine()
        let free = try await run(engine, GenerationRequest(promptIDs: [0, 7], sampling: .greedy, maxTokens: 16, ignoreEOS: true))
        // Stop on a piece of what greedy decoding produces anyway.
        let scalars = Array(free.text.unicodeScalars)
        try #require(scalars.count > 6)
        let stop = String(String.UnicodeScalarView(scalars[3..<6]))
        let stopped = try await run(engine, GenerationRequest(promptIDs: [0, 7], sampling: .greedy, maxTokens: 16, stop: [stop], ignoreEOS: true))
        #expect(stopped.reason == .stop)
        #expect(!stopped.text.contains(stop))
        #expect(free.text.hasPrefix(stopped.text))
        #expect(stopped.text == String(free.text[..<free.text.range(of: stop)!.lowerBound]))
    }

    @Test func stopTokenEndsGenerationWithoutBeingEmitted() async throws {
        let engine = try makeEngine()
        #expect(engine.endOfSequenceIDs == [1])
        let free = try await run(engine, GenerationRequest(promptIDs: [0, 7], sampling: .greedy, maxTokens: 8, ignoreEOS: true))
        let stopAt = free.ids[3]
        let firstIndex = free.ids.firstIndex(of: stopAt)!
        let stopped = try await run(engine, GenerationRequest(promptIDs: [0, 7], sampling: .greedy, maxTokens: 8, ignoreEOS: true,
                                                           stopTokenIDs: [stopAt]))
        #expect(stopped.reason == .stop)
        #expect(stopped.ids == Array(free.ids[..<firstIndex]))
    }

    @Test func contextLimitsGeneration() async throws {
        let engine = try makeEngine(context: 12)
        let result = try await run(engine, GenerationRequest(promptIDs: Array(2..<10), sampling: .greedy, maxTokens: 50, ignoreEOS: true))
        #expect(result.reason == .length)
        #expect(result.usage.completionTokens == 12 - 8 + 1)
    }

    @Test func promptFillingTheContextStillGivesOneToken() async throws {
        let engine = try makeEngine(context: 8)
        let result = try await run(engine, GenerationRequest(promptIDs: Array(2..<10), sampling: .greedy, maxTokens: 5, ignoreEOS: true))
        #expect(result.usage.completionTokens == 1 && result.reason == .length)
    }

    @Test func promptLongerThanContextIsAnError() async throws {
        let engine = try makeEngine(context: 8)
        await #expect(throws: ModelError.contextOverflow(tokens: 9, limit: 8)) {
            try await run(engine, GenerationRequest(promptIDs: Array(2..<11)))
        }
    }
}

@Suite struct StopMatcherTests {
    @Test func holdsPossibleStopPrefix() {
        var m = StopMatcher(stops: ["END"])
        #expect(m.feed("abcE") == ("abc", false))
        #expect(m.feed("N") == ("", false))
        #expect(m.feed("Dxyz") == ("", true))
    }

    @Test func releasesFalseAlarms() {
        var m = StopMatcher(stops: ["END"])
        #expect(m.feed("xE") == ("x", false))
        #expect(m.feed("Nx") == ("ENx", false))
        #expect(m.flush() == "")
    }

    @Test func earliestStopWins() {
        var m = StopMatcher(stops: ["cd", "b"])
        #expect(m.feed("abcd") == ("a", true))
    }
}
