import Foundation
import Kernels

/// Chooses the next token: penalties, then temperature, top-k, top-p and min-p, then a draw
/// from what is left (or argmax at temperature 0). The one sampler every command and the
/// server use.
public struct Sampler: Sendable {
    public let parameters: SamplingParameters
    private var random: RandomSource

    public init(parameters: SamplingParameters) {
        self.parameters = parameters
        random = parameters.seed.map(RandomSource.init(seed:)) ?? RandomSource()
    }

    /// - Parameters:
    ///   - logits: `[vocab]` scores of the next position.
    ///   - previous: prompt and generated ids so far (for the repetition penalty).
    ///   - generated: the generated ids only (for presence and frequency penalties).
    public mutating func sample(logits: [Float], previous: [Int] = [], generated: [Int] = []) -> Int {
        var scores = logits
        applyPenalties(&scores, previous: previous, generated: generated)
        if parameters.temperature == 0 { return Self.argmax(scores) }
        let candidates = filteredDistribution(scores)
        var draw = random.nextUnit() * candidates.total
        for (id, weight) in candidates.items {
            draw -= weight
            if draw < 0 { return id }
        }
        return candidates.items.last?.id ?? Self.argmax(scores)
    }

    func applyPenalties(_ scores: inout [Float], previous: [Int], generated: [Int]) {
        let p = parameters
        if p.repetitionPenalty != 1 {
            for id in Set(previous) where scores.indices.contains(id) {
                scores[id] = scores[id] > 0 ? scores[id] / p.repetitionPenalty : scores[id] * p.repetitionPenalty
            }
        }
        if p.presencePenalty != 0 || p.frequencyPenalty != 0 {
            var counts: [Int: Int] = [:]
            for id in generated { counts[id, default: 0] += 1 }
            for (id, count) in counts where scores.indices.contains(id) {
                scores[id] -= p.presencePenalty + p.frequencyPenalty * Float(count)
            }
        }
    }

    /// The surviving tokens, most likely first, with unnormalised probabilities.
    func filteredDistribution(_ scores: [Float]) -> (items: [(id: Int, weight: Float)], total: Float) {
        let p = parameters
        var order = scores.indices.filter { scores[$0].isFinite || scores[$0] == .infinity }
        order.sort { scores[$0] > scores[$1] || (scores[$0] == scores[$1] && $0 < $1) }
        if p.topK > 0 && order.count > p.topK { order.removeLast(order.count - p.topK) }
        guard let best = order.first else { return ([(Self.argmax(scores), 1)], 1) }
        let maximum = scores[best]
        var items = order.map { (id: $0, weight: exp((scores[$0] - maximum) / p.temperature)) }
        var total = items.reduce(0) { $0 + $1.weight }
        if p.topP < 1 {
            var cumulative: Float = 0
            var keep = 0
            for item in items {
                cumulative += item.weight / total
                keep += 1
                if cumulative >= p.topP { break }
            }
            items.removeLast(items.count - keep)
        }
        if p.minP > 0 {
            let floor = p.minP * items[0].weight
            items.removeAll { $0.weight < floor }
        }
        total = items.reduce(0) { $0 + $1.weight }
        return (items, total)
    }

    /// Index of the largest value (the lowest index among equals).
    public static func argmax(_ values: [Float]) -> Int {
        var best = 0
        for i in values.indices where values[i] > values[best] { best = i }
        return best
    }
}
