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

    /// - Parameters:
    ///   - x: `[tokens, hidden]`.
    ///   - path: which kernel every product takes (`automatic`: row-streaming below 4 tokens, else blocked);
    ///     on either, each token's output is what it would be alone.
    /// - Returns: `[tokens, hidden]`.
    func callAsFunction(_ x: [Float], tokens: Int, path: ProductPath = .automatic) -> [Float] {
        let hidden = x.count / tokens
        let streaming = path == .streaming || (path == .automatic && tokens < blockedMatmulTokens)
        let routes = router(x, tokens: tokens, path: streaming ? .streaming : .blocked)
        if streaming && tokens < blockedMatmulTokens {
            return (0..<tokens).flatMap { t in decodeStep(Array(x[(t * hidden)..<((t + 1) * hidden)]), route: routes[t]) }
        }
        var assignments = [[(token: Int, weight: Float)]](repeating: [], count: experts.count)
        for (t, route) in routes.enumerated() {
            for (e, w) in zip(route.experts, route.weights) { assignments[e].append((t, w)) }
        }
        let chosen = assignments.indices.filter { !assignments[$0].isEmpty }
        let gathered = chosen.map { e in
            var rows = [Float](); rows.reserveCapacity(assignments[e].count * hidden)
            for (t, _) in assignments[e] { rows.append(contentsOf: x[(t * hidden)..<((t + 1) * hidden)]) }
            return rows
        }
        let outputs: [[Float]], sharedOutput: [Float]?
        if streaming {
            // Every chosen expert on the tokens that chose it, and the shared experts on all, under one
            // dispatch for the gate and up projections and one for the down projections.
            let blocks = chosen.map { (experts[$0], assignments[$0].count) } + (shared.map { [($0, tokens)] } ?? [])
            let inputs = gathered + (shared == nil ? [] : [x])
            let projected = Linear.grouped(zip(blocks, inputs).flatMap { block, input in
                [(block.0.gate, input, block.1), (block.0.up, input, block.1)]
            })
            let downs = Linear.grouped(blocks.indices.map { i in
                var gate = projected[2 * i]
                siluMultiply(gate: &gate, up: projected[2 * i + 1])
                return (blocks[i].0.down, gate, blocks[i].1)
            })
            outputs = Array(downs[0..<chosen.count])
            sharedOutput = shared == nil ? nil : downs[chosen.count]
        } else {
            // Blocked at any group size, so a token's output does not depend on how many others chose its experts.
            outputs = zip(chosen, gathered).map { experts[$0]($1, tokens: assignments[$0].count, path: .blocked) }
            sharedOutput = shared.map { $0(x, tokens: tokens, path: .blocked) }
        }
        // Expert outputs summed in expert order, then the shared experts' (as decodeStep does per token).
        var output = [Float](repeating: 0, count: tokens * hidden)
        for (e, y) in zip(chosen, outputs) {
            for (i, (t, w)) in assignments[e].enumerated() {
                for d in 0..<hidden { output[t * hidden + d] += y[i * hidden + d] * w }
            }
        }
        if let sharedOutput { add(&output, sharedOutput) }
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
