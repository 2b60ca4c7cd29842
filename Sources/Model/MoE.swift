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
        if tokens < 4 {
            return (0..<tokens).flatMap { t in decodeStep(Array(x[(t * hidden)..<((t + 1) * hidden)]), route: routes[t]) }
        }
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

    /// One token: every chosen expert's and the shared experts' gate and up projections under one
    /// dispatch, then all their down projections under another (instead of three per expert).
    func decodeStep(_ x: [Float], route: (experts: [Int], weights: [Float])) -> [Float] {
        let order = route.experts.indices.sorted { route.experts[$0] < route.experts[$1] }
        let blocks = order.map { experts[route.experts[$0]] } + (shared.map { [$0] } ?? [])
        let projected = Linear.grouped(blocks.flatMap { [($0.gate, x), ($0.up, x)] }, tokens: 1)
        let activated = blocks.indices.map { i in
            var gate = projected[2 * i]
            siluMultiply(gate: &gate, up: projected[2 * i + 1])
            return gate
        }
        let downs = Linear.grouped(zip(blocks, activated).map { ($0.down, $1) }, tokens: 1)
        var output = [Float](repeating: 0, count: x.count)
        for (i, o) in order.enumerated() {
            let weight = route.weights[o]
            for d in output.indices { output[d] += downs[i][d] * weight }
        }
        if shared != nil { add(&output, downs[blocks.count - 1]) }
        return output
    }
}
