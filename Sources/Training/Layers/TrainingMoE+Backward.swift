import Kernels
import Model

extension TrainingMoE {
    /// The backward pass.
    ///
    /// - Parameters:
    ///   - dy: gradient of the output `[rows, hidden]`.
    ///   - balanceGradient: the factor on the balance loss's gradient (its coefficient times the loss's
    ///     gradient scale); 0 when the loss is off.
    /// - Returns: the gradient of `x`.
    func backward(_ dy: [Float], input x: [Float], saved s: Saved, batch: BatchShape, balanceGradient: Float,
                  _ p: ParameterSet, _ g: inout ParameterSet) -> [Float] {
        let rows = batch.rows, hidden = router.inputSize, count = rule.experts
        var dx = [Float](repeating: 0, count: rows * hidden)
        var dWeights = s.weights.map { [Float](repeating: 0, count: $0.count) }
        for e in 0..<count where !s.assignments[e].isEmpty {
            let assigned = s.assignments[e]
            var dOutput = [Float](repeating: 0, count: assigned.count * hidden)
            for (i, (r, k)) in assigned.enumerated() {
                let w = s.weights[r][k]
                var inner: Float = 0
                for d in 0..<hidden {
                    dOutput[i * hidden + d] = w * dy[r * hidden + d]
                    inner += dy[r * hidden + d] * s.outputs[e][i * hidden + d]
                }
                dWeights[r][k] = inner
            }
            let dInput = experts[e].backward(dOutput, input: s.inputs[e], saved: s.expertSaved[e]!, tokens: assigned.count, p, &g)
            for (i, (r, _)) in assigned.enumerated() {
                for d in 0..<hidden { dx[r * hidden + d] += dInput[i * hidden + d] }
            }
        }
        if let shared { add(&dx, shared.backward(dy, input: x, saved: s.sharedSaved!, tokens: rows, p, &g)) }

        var dScores = [Float](repeating: 0, count: rows * count)
        for r in 0..<rows {
            let chosen = s.chosen[r], scores = chosen.map { s.scores[r * count + $0] }
            if rule.normalize {
                // w_k = c · s_k / S with S = Σ_j s_j + 1e-20 over the chosen: ∂/∂s_j = c · (dw_j − Σ_k dw_k · s_k / S) / S.
                let sum = scores.reduce(0, +) + 1e-20
                var inner: Float = 0
                for k in chosen.indices { inner += dWeights[r][k] * scores[k] }
                for (k, e) in chosen.enumerated() {
                    dScores[r * count + e] += rule.scalingFactor * (dWeights[r][k] / sum - inner / (sum * sum))
                }
            } else {
                for (k, e) in chosen.enumerated() { dScores[r * count + e] += rule.scalingFactor * dWeights[r][k] }
            }
        }
        if balanceGradient != 0 { addBalanceGradient(&dScores, saved: s, batch: batch, factor: balanceGradient) }

        var dLogits = [Float](repeating: 0, count: rows * count)
        for r in 0..<rows {
            let range = (r * count)..<((r + 1) * count)
            let scores = Array(s.scores[range]), gradient = Array(dScores[range])
            let d = rule.scoring == .sigmoid ? sigmoidBackward(output: scores, gradient: gradient)
                                             : softmaxBackward(output: scores, gradient: gradient)
            dLogits.replaceSubrange(range, with: d)
        }
        add(&dx, router.backward(dLogits, input: x, tokens: rows, p, &g))
        return dx
    }

    /// Adds `factor ·` the gradient of the sequence-wise balance loss without its coefficient to `dScores`:
    /// `∂/∂s'_{i,t} = f_i / (length · sequences)`, taken back through `s' = s / Σ_j s_j`.
    func addBalanceGradient(_ dScores: inout [Float], saved s: Saved, batch: BatchShape, factor: Float) {
        let count = rule.experts
        for sequence in 0..<batch.sequences {
            let rows = (sequence * batch.length)..<((sequence + 1) * batch.length)
            let f = selectionFrequencies(chosen: s.chosen, rows: rows)
            let perToken = factor / Float(batch.length * batch.sequences)
            for r in rows {
                let scores = s.scores[(r * count)..<((r + 1) * count)]
                let sum = scores.reduce(0, +)
                var inner: Float = 0
                for (i, value) in scores.enumerated() { inner += f[i] * value / sum }
                for i in 0..<count { dScores[r * count + i] += perToken * (f[i] - inner) / sum }
            }
        }
    }
}
