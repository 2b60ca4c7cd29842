import Kernels

/// DeepSeekMoE's gate: scores every routed expert for a token and picks `num_experts_per_tok`.
///
/// Scores are the sigmoid (V3) or softmax (V2) of `x · Wᵀ` in `Float`. Selection adds
/// `e_score_correction_bias` (V3's auxiliary-loss-free balancing) but the returned weights are
/// the unbiased scores. `noaux_tc` keeps the `topk_group` groups whose two best biased scores
/// sum highest; `group_limited_greedy` ranks groups by their best score; `greedy` ignores groups.
/// See docs/Model.md § Router.
public struct Router: Sendable {
    let weight: Linear
    let correctionBias: [Float]?
    let experts: Int
    let expertsPerToken: Int
    let groups: Int
    let topkGroup: Int
    let method: ModelConfig.TopKMethod
    let scoring: ModelConfig.ScoringFunction
    let normalize: Bool
    let scalingFactor: Float

    init(config c: ModelConfig, layer l: Int, loader: WeightLoader) throws {
        experts = c.nRoutedExperts ?? 0
        let specs = ParameterLayout.router(c, l)
        weight = try loader.linear(specs.weight)
        // noaux_tc needs the bias; other methods use one if the checkpoint has it.
        let bias = specs.bias ?? ParameterLayout.routerBias(c, l)
        correctionBias = specs.bias != nil || loader.checkpoint.contains(bias.name)
            ? try loader.vector(bias.name, count: experts) : nil
        expertsPerToken = c.numExpertsPerTok
        groups = c.nGroup
        topkGroup = c.topkGroup
        method = c.topkMethod
        scoring = c.scoringFunc
        normalize = c.normTopkProb
        scalingFactor = c.routedScalingFactor
    }

    /// Chosen experts and their weights for each of `tokens` rows of `x` `[tokens, hidden]`.
    func callAsFunction(_ x: [Float], tokens: Int, path: ProductPath = .automatic) -> [(experts: [Int], weights: [Float])] {
        let logits = weight(x, tokens: tokens, path: path)
        return (0..<tokens).map { t in
            var scores = Array(logits[(t * experts)..<((t + 1) * experts)])
            switch scoring {
            case .sigmoid: scores = sigmoid(scores)
            case .softmax: softmax(&scores, range: 0..<experts)
            }
            return select(scores: scores)
        }
    }

    func select(scores: [Float]) -> (experts: [Int], weights: [Float]) {
        var choice = scores
        if let correctionBias {
            for e in 0..<experts { choice[e] += correctionBias[e] }
        }
        if method != .greedy && groups > 1 {
            let perGroup = experts / groups
            let groupScores = (0..<groups).map { g -> Float in
                let members = choice[(g * perGroup)..<((g + 1) * perGroup)]
                if method == .noauxTC { return topIndices(Array(members), count: 2).reduce(0) { $0 + members[members.startIndex + $1] } }
                return members.max()!
            }
            let kept = Set(topIndices(groupScores, count: topkGroup))
            for g in 0..<groups where !kept.contains(g) {
                for e in (g * perGroup)..<((g + 1) * perGroup) { choice[e] = -.infinity }
            }
        }
        let chosen = topIndices(choice, count: expertsPerToken)
        var weights = chosen.map { scores[$0] }
        if normalize {
            let denominator = weights.reduce(0, +) + 1e-20
            weights = weights.map { $0 / denominator }
        }
        return (chosen, weights.map { $0 * scalingFactor })
    }
}
