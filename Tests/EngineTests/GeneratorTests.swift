import Foundation
import Model
import Sampling
import Testing
import Tokenizer
@testable import Engine

let modelsRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("Fixtures/models")

func makeGenerator(_ name: String = "v3-yarn", context: Int? = nil) throws -> Generator {
    let path = modelsRoot.appendingPathComponent(name).path
    return Generator(model: try Transformer(directory: path), tokenizer: try Tokenizer(directory: path), contextLength: context)
}

/// Collects a request's events into token ids, text and the finish.
func run(_ generator: Generator, _ request: GenerationRequest) throws -> (ids: [Int], text: String, reason: FinishReason, usage: Usage) {
    var ids: [Int] = [], text = ""
    var finish: (FinishReason, Usage)?
    try generator.generate(request) { event in
        switch event {
        case let .token(id, piece): ids.append(id); text += piece
        case let .text(piece): text += piece
        case let .finished(reason, usage): finish = (reason, usage)
        }
    }
    return (ids, text, finish!.0, finish!.1)
}

@Suite struct GeneratorTests {
    @Test func greedyGenerationMatchesTheReference() throws {
        let generator = try makeGenerator()
        let json = try Data(contentsOf: modelsRoot.appendingPathComponent("v3-yarn/reference.json"))
        let reference = try JSONSerialization.jsonObject(with: json) as! [String: Any]
        let prompt = reference["prompt_ids"] as! [Int], greedy = reference["greedy_ids"] as! [Int]
        let result = try run(generator, GenerationRequest(promptIDs: prompt, sampling: .greedy, maxTokens: greedy.count, ignoreEOS: true))
        #expect(result.ids == greedy)
        #expect(result.reason == .length)
        #expect(result.usage.promptTokens == prompt.count && result.usage.completionTokens == greedy.count)
        #expect(result.text == (try generator.tokenizer.decode(greedy, skipSpecialTokens: true)))
    }

    @Test func sameSeedSameTokensDifferentSeedDifferentTokens() throws {
        let generator = try makeGenerator()
        func tokens(_ seed: UInt64) throws -> [Int] {
            try run(generator, GenerationRequest(promptIDs: [0, 5, 9], sampling: SamplingParameters(temperature: 1.5, seed: seed),
                                                 maxTokens: 12, ignoreEOS: true)).ids
        }
        #expect(try tokens(3) == tokens(3))
        #expect(try tokens(3) != tokens(4))
    }

    @Test func stopStringEndsGenerationAndIsNotEmitted() throws {
        let generator = try makeGenerator()
        let free = try run(generator, GenerationRequest(promptIDs: [0, 7], sampling: .greedy, maxTokens: 16, ignoreEOS: true))
        // Stop on a piece of what greedy decoding produces anyway.
        let scalars = Array(free.text.unicodeScalars)
        try #require(scalars.count > 6)
        let stop = String(String.UnicodeScalarView(scalars[3..<6]))
        let stopped = try run(generator, GenerationRequest(promptIDs: [0, 7], sampling: .greedy, maxTokens: 16, stop: [stop], ignoreEOS: true))
        #expect(stopped.reason == .stop)
        #expect(!stopped.text.contains(stop))
        #expect(free.text.hasPrefix(stopped.text))
        #expect(stopped.text == String(free.text[..<free.text.range(of: stop)!.lowerBound]))
    }

    @Test func stopTokenEndsGenerationWithoutBeingEmitted() throws {
        let generator = try makeGenerator()
        #expect(generator.endOfSequenceIDs == [1])
        let free = try run(generator, GenerationRequest(promptIDs: [0, 7], sampling: .greedy, maxTokens: 8, ignoreEOS: true))
        let stopAt = free.ids[3]
        let firstIndex = free.ids.firstIndex(of: stopAt)!
        let stopped = try run(generator, GenerationRequest(promptIDs: [0, 7], sampling: .greedy, maxTokens: 8, ignoreEOS: true,
                                                           stopTokenIDs: [stopAt]))
        #expect(stopped.reason == .stop)
        #expect(stopped.ids == Array(free.ids[..<firstIndex]))
    }

    @Test func contextLimitsGeneration() throws {
        let generator = try makeGenerator(context: 12)
        let result = try run(generator, GenerationRequest(promptIDs: Array(2..<10), sampling: .greedy, maxTokens: 50, ignoreEOS: true))
        #expect(result.reason == .length)
        #expect(result.usage.completionTokens == 12 - 8 + 1)
    }

    @Test func promptFillingTheContextStillGivesOneToken() throws {
        let generator = try makeGenerator(context: 8)
        let result = try run(generator, GenerationRequest(promptIDs: Array(2..<10), sampling: .greedy, maxTokens: 5, ignoreEOS: true))
        #expect(result.usage.completionTokens == 1 && result.reason == .length)
    }

    @Test func promptLongerThanContextIsAnError() throws {
        let generator = try makeGenerator(context: 8)
        #expect(throws: ModelError.contextOverflow(tokens: 9, limit: 8)) {
            try run(generator, GenerationRequest(promptIDs: Array(2..<11)))
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
