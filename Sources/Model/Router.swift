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
    let rule: RoutingRule

    init(config c: ModelConfig, layer l: Int, loader: WeightLoader) throws {
        rule = RoutingRule(config: c)
        let specs = ParameterLayout.router(c, l)
        weight = try loader.linear(specs.weight)
        // noaux_tc needs the bias; other methods use one if the checkpoint has it.
        let bias = specs.bias ?? ParameterLayout.routerBias(c, l)
        correctionBias = specs.bias != nil || loader.checkpoint.contains(bias.name)
            ? try loader.vector(bias.name, count: rule.experts) : nil
    }

    /// Chosen experts and their weights for each of `tokens` rows of `x` `[tokens, hidden]`.
    func callAsFunction(_ x: [Float], tokens: Int, path: ProductPath = .automatic) -> [(experts: [Int], weights: [Float])] {
        let logits = weight(x, tokens: tokens, path: path)
        let experts = rule.experts
        return (0..<tokens).map { t in
            let scores = rule.scores(Array(logits[(t * experts)..<((t + 1) * experts)]))
            return rule.select(scores: scores, correctionBias: correctionBias)
        }
    }
}

/// How DeepSeekMoE turns a token's router logits into its experts and their weights — shared by inference
/// (`Router`) and training, which differentiates through the weights.
public struct RoutingRule: Sendable, Equatable {
    public let experts: Int
    public let expertsPerToken: Int
    public let groups: Int
    public let topkGroup: Int
    public let method: ModelConfig.TopKMethod
    public let scoring: ModelConfig.ScoringFunction
    /// Whether the chosen scores are divided by their sum (`norm_topk_prob`).
    public let normalize: Bool
    public let scalingFactor: Float

    public init(config c: ModelConfig) {
        experts = c.nRoutedExperts ?? 0
        expertsPerToken = c.numExpertsPerTok
        groups = c.nGroup
        topkGroup = c.topkGroup
        method = c.topkMethod
        scoring = c.scoringFunc
        normalize = c.normTopkProb
        scalingFactor = c.routedScalingFactor
    }

    /// Scores from one token's logits `[experts]`: sigmoid (V3) or softmax (V2).
    public func scores(_ logits: [Float]) -> [Float] {
        switch scoring {
        case .sigmoid: return sigmoid(logits)
        case .softmax:
            var scores = logits
            softmax(&scores, range: 0..<experts)
            return scores
        }
    }

    /// The chosen experts (best first) and their weights from one token's scores `[experts]`.
    public func select(scores: [Float], correctionBias: [Float]?) -> (experts: [Int], weights: [Float]) {
        let chosen = choose(scores: scores, correctionBias: correctionBias)
        return (chosen, weights(scores: scores, chosen: chosen))
    }

    /// The `expertsPerToken` experts (best first) by score plus `correctionBias`, within the best groups.
    public func choose(scores: [Float], correctionBias: [Float]?) -> [Int] {
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
        return topIndices(choice, count: expertsPerToken)
    }

    /// The weights of `chosen` experts: their unbiased scores, divided by their sum when `normalize`, times
    /// `scalingFactor`.
    public func weights(scores: [Float], chosen: [Int]) -> [Float] {
        var weights = chosen.map { scores[$0] }
        if normalize {
            let denominator = weights.reduce(0, +) + 1e-20
            weights = weights.map { $0 / denominator }
        }
        return weights.map { $0 * scalingFactor }
    }
}
