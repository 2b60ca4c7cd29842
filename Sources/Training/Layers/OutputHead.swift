import Kernels
import Model

/// The final norm, the output head and the cross-entropy, run a chunk of rows at a time so the logits of a
/// whole batch (`rows × vocab`) are never held at once; with gradients, each chunk's backward follows its
/// forward directly.
struct OutputHead: Sendable {
    let norm: TrainingNorm
    let head: TrainingLinear
    /// Rows of logits computed together.
    static let chunkRows = 256

    /// The summed cross-entropy of `h`'s rows against `targets`, and, when `gradientScale` is given, the
    /// gradient of `gradientScale · Σ loss` with respect to `h` (the head's and norm's gradients added to `g`).
    ///
    /// - Parameter h: the residual stream `[rows, hidden]` before the norm.
    func loss(_ h: [Float], targets: [Int], gradientScale: Float?, _ p: ParameterSet, _ g: inout ParameterSet)
        -> (loss: Double, gradient: [Float]) {
        let rows = targets.count, hidden = head.inputSize, vocab = head.outputSize
        let x = norm.forward(h, rows: rows, p)
        var dx = gradientScale == nil ? [] : [Float](repeating: 0, count: rows * hidden)
        var total = 0.0
        var first = 0
        while first < rows {
            let count = min(Self.chunkRows, rows - first)
            let slice = Array(x[(first * hidden)..<((first + count) * hidden)])
            let chunkTargets = Array(targets[first..<(first + count)])
            guard chunkTargets.contains(where: { $0 >= 0 }) else {
                first += count
                continue
            }
            var logits = head.forward(slice, tokens: count, p)
            total += crossEntropy(logits: &logits, targets: chunkTargets, vocab: vocab, scale: gradientScale ?? 0)
            if gradientScale != nil {
                let d = head.backward(logits, input: slice, tokens: count, p, &g)
                dx.replaceSubrange((first * hidden)..<((first + count) * hidden), with: d)
            }
            first += count
        }
        guard gradientScale != nil else { return (total, []) }
        return (total, norm.backward(dx, input: h, rows: rows, p, &g))
    }

    /// Logits `[rows, vocab]` of `h` (no loss): for evaluation and the tests.
    func logits(_ h: [Float], rows: Int, _ p: ParameterSet) -> [Float] {
        head.forward(norm.forward(h, rows: rows, p), tokens: rows, p)
    }
}
