import Kernels
import Model

/// DeepSeekMoE for training: the router, the routed experts each on the tokens that chose it, and the shared
/// experts, with a backward pass that reaches the router through the chosen experts' gate weights.
///
/// Selection adds `e_score_correction_bias` to the scores (V3's auxiliary-loss-free balancing; the bias is
/// moved outside the gradient, see `ExpertBalance`) and is not differentiated; the weights are the unbiased
/// scores, normalised and scaled as `RoutingRule` says, and carry the gradient. The small sequence-wise
/// balance loss (DeepSeek-V3 §2.1.2, eq. 17–20) is added when its coefficient is positive.
struct TrainingMoE: Sendable {
    let router: TrainingLinear
    /// Slot of `e_score_correction_bias`, when the layout has one.
    let correctionBias: Int?
    let rule: RoutingRule
    let experts: [TrainingMLP]
    let shared: TrainingMLP?

    init(config c: ModelConfig, layer l: Int, in p: ParameterSet, precision: Precision) {
        let specs = ParameterLayout.router(c, l)
        router = TrainingLinear(specs.weight, in: p)
        correctionBias = p.slot(specs.bias)
        rule = RoutingRule(config: c)
        experts = (0..<rule.experts).map { e in TrainingMLP(in: p, precision: precision) { ParameterLayout.expert(c, l, e, $0) } }
        shared = c.nSharedExperts > 0 ? TrainingMLP(in: p, precision: precision) { ParameterLayout.sharedExpert(c, l, $0) } : nil
    }

    /// What the backward pass needs of a forward pass.
    struct Saved {
        /// Router scores `[rows, experts]` (sigmoid or softmax of the logits).
        let scores: [Float]
        /// Each row's chosen experts and their weights.
        let chosen: [[Int]]
        let weights: [[Float]]
        /// For each expert, the rows that chose it and which of their choices it is.
        let assignments: [[(row: Int, choice: Int)]]
        let inputs: [[Float]]
        let outputs: [[Float]]
        let expertSaved: [TrainingMLP.Saved?]
        let sharedSaved: TrainingMLP.Saved?

        var byteCount: Int {
            4 * (scores.count + inputs.reduce(0) { $0 + $1.count } + outputs.reduce(0) { $0 + $1.count })
                + expertSaved.reduce(0) { $0 + ($1?.byteCount ?? 0) } + (sharedSaved?.byteCount ?? 0)
        }
    }

    /// What a forward pass reports besides its output.
    struct Statistics {
        /// Tokens routed to each expert.
        var load: [Int]
        /// The sequence-wise balance loss (already times its coefficient), averaged over sequences.
        var balanceLoss: Double
    }

    /// - Parameters:
    ///   - x: normalised hidden states `[rows, hidden]`.
    ///   - balanceCoefficient: α of the sequence-wise balance loss (0: none).
    ///   - routes: experts to use for each row instead of choosing them (the gradient checks hold routing fixed).
    func forward(_ x: [Float], batch: BatchShape, balanceCoefficient: Float, routes: [[Int]]? = nil, _ p: ParameterSet)
        -> (output: [Float], saved: Saved, statistics: Statistics) {
        let rows = batch.rows, hidden = router.inputSize, count = rule.experts
        let logits = router.forward(x, tokens: rows, p)
        var scores = [Float](repeating: 0, count: rows * count)
        var chosen: [[Int]] = [], weights: [[Float]] = []
        var assignments = [[(row: Int, choice: Int)]](repeating: [], count: count)
        let bias = correctionBias.map { p.values[$0] }
        for r in 0..<rows {
            let s = rule.scores(Array(logits[(r * count)..<((r + 1) * count)]))
            scores.replaceSubrange((r * count)..<((r + 1) * count), with: s)
            let picked = routes?[r] ?? rule.choose(scores: s, correctionBias: bias)
            chosen.append(picked)
            weights.append(rule.weights(scores: s, chosen: picked))
            for (k, e) in picked.enumerated() { assignments[e].append((r, k)) }
        }
        var inputs = [[Float]](repeating: [], count: count), outputs = inputs
        var expertSaved = [TrainingMLP.Saved?](repeating: nil, count: count)
        var output = [Float](repeating: 0, count: rows * hidden)
        for e in 0..<count where !assignments[e].isEmpty {
            var gathered = [Float](); gathered.reserveCapacity(assignments[e].count * hidden)
            for (r, _) in assignments[e] { gathered += x[(r * hidden)..<((r + 1) * hidden)] }
            let (y, saved) = experts[e].forward(gathered, tokens: assignments[e].count, p)
            for (i, (r, k)) in assignments[e].enumerated() {
                let w = weights[r][k]
                for d in 0..<hidden { output[r * hidden + d] += w * y[i * hidden + d] }
            }
            (inputs[e], outputs[e], expertSaved[e]) = (gathered, y, saved)
        }
        var sharedSaved: TrainingMLP.Saved?
        if let shared {
            let (y, saved) = shared.forward(x, tokens: rows, p)
            add(&output, y)
            sharedSaved = saved
        }
        let statistics = Statistics(
            load: assignments.map(\.count),
            balanceLoss: balanceCoefficient > 0 ? balanceLoss(scores: scores, chosen: chosen, batch: batch, coefficient: balanceCoefficient) : 0)
        return (output, Saved(scores: scores, chosen: chosen, weights: weights, assignments: assignments, inputs: inputs,
                              outputs: outputs, expertSaved: expertSaved, sharedSaved: sharedSaved), statistics)
    }

    /// `f_i` of eq. 18 for one sequence: `experts / (expertsPerToken · length) · (times expert i was chosen)`.
    func selectionFrequencies(chosen: [[Int]], rows: Range<Int>) -> [Float] {
        var f = [Float](repeating: 0, count: rule.experts)
        for r in rows { for e in chosen[r] { f[e] += 1 } }
        let factor = Float(rule.experts) / Float(rule.expertsPerToken * rows.count)
        return f.map { $0 * factor }
    }

    /// `α · Σ_i f_i · P_i` (eq. 17), `P_i` the mean over the sequence of the token's scores normalised to sum
    /// to 1 (eq. 19–20), averaged over the sequences.
    func balanceLoss(scores: [Float], chosen: [[Int]], batch: BatchShape, coefficient: Float) -> Double {
        let count = rule.experts
        var total = 0.0
        for sequence in 0..<batch.sequences {
            let rows = (sequence * batch.length)..<((sequence + 1) * batch.length)
            let f = selectionFrequencies(chosen: chosen, rows: rows)
            for r in rows {
                let s = scores[(r * count)..<((r + 1) * count)]
                let sum = Double(s.reduce(0, +))
                for (i, value) in s.enumerated() { total += Double(f[i]) * Double(value) / sum / Double(batch.length) }
            }
        }
        return Double(coefficient) * total / Double(batch.sequences)
    }
}
