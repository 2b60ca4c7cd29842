import Kernels

/// DeepSeekMoE: routed experts chosen per token by the `Router`, plus always-on shared experts.
///
/// Tokens are grouped by expert so each selected expert runs once on its group; experts no
/// token chose cost nothing. Expert outputs are summed in expert order, then the shared
/// experts' output is added, as the reference does.
public struct MoE: Sendable {
    let router: Router
    let experts: [DenseMLP]
    let shared: DenseMLP?

    init(config c: ModelConfig, layer l: Int, loader: WeightLoader) throws {
        router = try Router(config: c, layer: l, loader: loader)
        experts = try (0..<(c.nRoutedExperts ?? 0)).map { e in
            try DenseMLP(loader: loader) { ParameterLayout.expert(c, l, e, $0) }
        }
        shared = c.nSharedExperts > 0
            ? try DenseMLP(loader: loader) { ParameterLayout.sharedExpert(c, l, $0) }
            : nil
    }

    /// - Parameter x: `[tokens, hidden]`. - Returns: `[tokens, hidden]`.
    func callAsFunction(_ x: [Float], tokens: Int) -> [Float] {
        let hidden = x.count / tokens
        let routes = router(x, tokens: tokens)
        var assignments = [[(token: Int, weight: Float)]](repeating: [], count: experts.count)
        for (t, route) in routes.enumerated() {
            for (e, w) in zip(route.experts, route.weights) { assignments[e].append((t, w)) }
        }
        var output = [Float](repeating: 0, count: tokens * hidden)
        for (e, group) in assignments.enumerated() where !group.isEmpty {
            var gathered = [Float](); gathered.reserveCapacity(group.count * hidden)
            for (t, _) in group { gathered.append(contentsOf: x[(t * hidden)..<((t + 1) * hidden)]) }
            let y = experts[e](gathered, tokens: group.count)
            for (i, (t, w)) in group.enumerated() {
                for d in 0..<hidden { output[t * hidden + d] += y[i * hidden + d] * w }
            }
        }
        if let shared { add(&output, shared(x, tokens: tokens)) }
        return output
    }
}
