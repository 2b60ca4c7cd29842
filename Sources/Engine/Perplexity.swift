import Foundation
import Kernels
import Model

/// Perplexity of a model on a token stream and, against a reference model (the same weights before
/// quantization), how far its next-token distributions move: the mean KL divergence
/// `KL(reference ‖ model)` and the share of positions whose most likely token is the same — the
/// measures llama.cpp's `perplexity --kl-divergence` reports.
public enum Perplexity {
    public struct Report: Sendable {
        /// Positions scored (each predicts the token after it).
        public var scoredTokens = 0
        public var chunks = 0
        /// `exp(mean negative log-likelihood)` of the model.
        public var perplexity = 0.0
        /// The reference's perplexity, with a reference.
        public var referencePerplexity: Double?
        /// Mean and largest per-position `KL(reference ‖ model)` in nats, with a reference.
        public var meanKL: Double?
        public var maxKL: Double?
        /// Share of positions whose argmax agrees with the reference's, with a reference.
        public var top1Agreement: Double?
    }

    /// Scores `tokens` in consecutive chunks of `context` tokens, each run from an empty cache; every
    /// position but a chunk's last predicts the next token of the chunk.
    public static func evaluate(model: Transformer, reference: Transformer?, tokens: [Int], context: Int, batch: Int? = nil) throws -> Report {
        guard tokens.count >= 2 else { throw EngineError.invalidEvaluation("needs at least 2 tokens, got \(tokens.count)") }
        guard context >= 2 else { throw EngineError.invalidEvaluation("--context must be at least 2, got \(context)") }
        let batch = batch ?? context
        guard batch >= 1 else { throw EngineError.invalidEvaluation("--batch-size must be at least 1, got \(batch)") }
        let vocab = model.config.vocabSize
        if let reference, reference.config.vocabSize != vocab {
            throw EngineError.invalidEvaluation("the reference's vocabulary (\(reference.config.vocabSize)) differs from the model's (\(vocab))")
        }
        var report = Report()
        var nll = 0.0, referenceNLL = 0.0, kl = 0.0, maxKL = 0.0, agreed = 0, compared = 0
        var start = 0
        while start + 1 < tokens.count {
            let chunk = Array(tokens[start..<min(start + context, tokens.count)])
            start += chunk.count
            let logits = try allLogits(model, chunk, batch: batch)
            let referenceLogits = try reference.map { try allLogits($0, chunk, batch: batch) }
            report.chunks += 1
            for position in 0..<chunk.count {
                let row = logits[(position * vocab)..<((position + 1) * vocab)]
                let logP = logSoftmax(row)
                let next = position + 1 < chunk.count ? chunk[position + 1] : nil
                if let next { nll -= logP[next]; report.scoredTokens += 1 }
                guard let referenceLogits else { continue }
                let referenceRow = referenceLogits[(position * vocab)..<((position + 1) * vocab)]
                let logQ = logSoftmax(referenceRow)
                if let next { referenceNLL -= logQ[next] }
                var divergence = 0.0
                for i in 0..<vocab { divergence += exp(logQ[i]) * (logQ[i] - logP[i]) }
                kl += divergence
                maxKL = max(maxKL, divergence)
                compared += 1
                if argmax(row) == argmax(referenceRow) { agreed += 1 }
            }
        }
        let scored = Double(max(report.scoredTokens, 1))
        report.perplexity = exp(nll / scored)
        if reference != nil {
            report.referencePerplexity = exp(referenceNLL / scored)
            report.meanKL = kl / Double(compared)
            report.maxKL = maxKL
            report.top1Agreement = Double(agreed) / Double(compared)
        }
        return report
    }

    /// The logits at every position of `tokens`, fed `batch` tokens a step into one cache.
    private static func allLogits(_ model: Transformer, _ tokens: [Int], batch: Int) throws -> [Float] {
        var cache = try model.makeCache(capacity: tokens.count)
        var logits: [Float] = []
        logits.reserveCapacity(tokens.count * model.config.vocabSize)
        var start = 0
        while start < tokens.count {
            let end = min(start + batch, tokens.count)
            logits += try model.forward(tokens: Array(tokens[start..<end]), cache: &cache, logits: .all)
            start = end
        }
        return logits
    }

    private static func argmax(_ row: ArraySlice<Float>) -> Int {
        var best = row.startIndex
        for i in row.indices where row[i] > row[best] { best = i }
        return best - row.startIndex
    }
}
