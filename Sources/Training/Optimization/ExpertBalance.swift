import Model

/// DeepSeek-V3's auxiliary-loss-free load balancing (§2.1.2): after each step, every routed expert's
/// `e_score_correction_bias` moves by a fixed `rate` toward balance — down when the expert took more than the
/// layer's mean load in the step, up when it took less. The bias only steers selection, never the weights,
/// and is outside the gradient.
public struct ExpertBalance: Sendable, Equatable {
    /// γ, the bias update speed (the paper: 0.001).
    public var rate: Float

    public init(rate: Float = 1e-3) { self.rate = rate }

    /// Moves the correction bias of each MoE layer in `load` (tokens per expert over the step) that has one.
    public func update(_ parameters: inout ParameterSet, config: ModelConfig, load: [Int: [Int]]) {
        guard rate > 0 else { return }
        for (layer, counts) in load {
            let name = ParameterLayout.routerBias(config, layer).name
            guard parameters.contains(name), !counts.isEmpty else { continue }
            let slot = parameters.slot(name)
            let mean = Float(counts.reduce(0, +)) / Float(counts.count)
            for (e, count) in counts.enumerated() {
                let error = mean - Float(count)
                parameters.values[slot][e] += error > 0 ? rate : error < 0 ? -rate : 0
            }
        }
    }

    /// The most-loaded expert's share over the mean share, per layer (1 is perfect balance).
    public static func imbalance(_ load: [Int: [Int]]) -> [Int: Float] {
        load.mapValues { counts in
            let mean = Float(counts.reduce(0, +)) / Float(max(counts.count, 1))
            return mean > 0 ? Float(counts.max() ?? 0) / mean : 1
        }
    }
}
