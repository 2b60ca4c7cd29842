import Foundation
import Testing
@testable import Sampling

@Suite struct SamplerTests {
    let logits: [Float] = [1.0, 3.0, 2.0, -1.0, 2.5]

    @Test func greedyPicksArgmax() {
        var sampler = Sampler(parameters: .greedy)
        #expect(sampler.sample(logits: logits) == 1)
    }

    @Test func sameSeedSameTokens() {
        let parameters = SamplingParameters(temperature: 1.3, seed: 42)
        var a = Sampler(parameters: parameters), b = Sampler(parameters: parameters)
        let first = (0..<50).map { _ in a.sample(logits: logits) }
        #expect(first == (0..<50).map { _ in b.sample(logits: logits) })
        var c = Sampler(parameters: SamplingParameters(temperature: 1.3, seed: 43))
        #expect(first != (0..<50).map { _ in c.sample(logits: logits) })
    }

    @Test func topKKeepsOnlyTheBest() {
        var sampler = Sampler(parameters: SamplingParameters(temperature: 5, topK: 2, seed: 1))
        let drawn = Set((0..<200).map { _ in sampler.sample(logits: logits) })
        #expect(drawn == [1, 4])
    }

    @Test func topPKeepsSmallestNucleus() {
        let p = SamplingParameters(temperature: 1, topP: 0.5)
        let kept = Sampler(parameters: p).filteredDistribution(logits).items.map(\.id)
        // softmax(logits): 3.0 → 0.43, 2.5 → 0.26; the first reaching 0.5 is two tokens.
        #expect(kept == [1, 4])
    }

    @Test func minPDropsUnlikelyTokens() {
        let p = SamplingParameters(temperature: 1, minP: 0.5)
        let kept = Sampler(parameters: p).filteredDistribution(logits).items.map(\.id)
        #expect(kept == [1, 4])  // exp(-0.5) = 0.61 ≥ 0.5, exp(-1) = 0.37 < 0.5
    }

    @Test func samplingFollowsTheDistribution() {
        var sampler = Sampler(parameters: SamplingParameters(temperature: 1, seed: 7))
        let two: [Float] = [0, Float(log(3.0))]  // probabilities 0.25, 0.75
        let ones = (0..<20_000).filter { _ in sampler.sample(logits: two) == 1 }.count
        #expect(abs(Double(ones) / 20_000 - 0.75) < 0.02)
    }

    @Test func repetitionPenaltyDividesPositiveAndMultipliesNegative() {
        var scores = logits
        Sampler(parameters: SamplingParameters(repetitionPenalty: 2)).applyPenalties(&scores, previous: [1, 3, 1], generated: [])
        #expect(scores == [1.0, 1.5, 2.0, -2.0, 2.5])
    }

    @Test func presenceAndFrequencyPenalties() {
        var scores = logits
        Sampler(parameters: SamplingParameters(presencePenalty: 0.5, frequencyPenalty: 0.25))
            .applyPenalties(&scores, previous: [], generated: [2, 2, 0])
        #expect(scores == [0.25, 3.0, 1.0, -1.0, 2.5])
    }

    @Test func invalidParametersAreRejected() {
        #expect(throws: SamplingError.self) { try SamplingParameters(temperature: -1).validate() }
        #expect(throws: SamplingError.self) { try SamplingParameters(topP: 0).validate() }
        #expect(throws: SamplingError.self) { try SamplingParameters(minP: 2).validate() }
        #expect(throws: SamplingError.self) { try SamplingParameters(repetitionPenalty: 0).validate() }
        #expect(throws: Never.self) { try SamplingParameters().validate() }
    }
}
