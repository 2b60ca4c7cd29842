import Foundation

/// Softmax cross-entropy of each row of `logits` against its target, and its gradient, in one pass.
///
/// Rows whose target is negative are ignored (no loss, zero gradient): prompts in fine-tuning, padding.
/// The logits are overwritten with `scale · (softmax(logits) − onehot(target))`, the gradient of
/// `scale · Σ loss`.
///
/// - Parameters:
///   - logits: `[rows, vocab]`, replaced by the gradient.
///   - targets: `[rows]`, each in `0..<vocab` or negative.
/// - Returns: the summed loss (natural log) over the rows that have a target, in `Double`.
public func crossEntropy(logits: inout [Float], targets: [Int], vocab: Int, scale: Float) -> Double {
    let rows = targets.count
    precondition(logits.count == rows * vocab, "crossEntropy logits have \(logits.count) values, need \(rows)×\(vocab)")
    precondition(targets.allSatisfy { $0 < vocab }, "crossEntropy target outside the vocabulary of \(vocab)")
    var losses = [Double](repeating: 0, count: rows)
    logits.withUnsafeMutableBufferPointer { l in
        losses.withUnsafeMutableBufferPointer { loss in
            ThreadPool.parallelFor(rows, grain: max(1, 65_536 / max(vocab, 1))) { range in
                for r in range {
                    let row = l.baseAddress! + r * vocab
                    guard targets[r] >= 0 else {
                        row.update(repeating: 0, count: vocab)
                        continue
                    }
                    var maximum = -Float.infinity
                    for i in 0..<vocab { maximum = max(maximum, row[i]) }
                    let target = row[targets[r]]
                    let sum = exponentiate(row, count: vocab, scale: 1, shift: maximum)
                    loss[r] = Double(maximum) + log(Double(sum)) - Double(target)
                    let factor = scale / sum
                    for i in 0..<vocab { row[i] *= factor }
                    row[targets[r]] -= scale
                }
            }
        }
    }
    return losses.reduce(0, +)
}
