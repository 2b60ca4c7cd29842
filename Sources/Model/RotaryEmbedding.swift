import Foundation

/// Rotary position embedding for the `qk_rope_head_dim` part of queries and keys, with YaRN
/// or linear frequency scaling.
///
/// Frequencies and angles are computed in `Float` in the same order of operations as the
/// reference (PyTorch fp32), so long positions rotate by the same angles bit for bit in
/// the product `position × inverseFrequency`. See docs/Model.md § YaRN.
public struct RotaryEmbedding: Sendable {
    /// One inverse frequency per pair of rotary dimensions.
    public let inverseFrequencies: [Float]
    /// Multiplies cos and sin (YaRN's `attention_factor`; 1 otherwise).
    public let attentionScaling: Float
    public let interleaved: Bool

    public init(config: ModelConfig) {
        let dim = config.qkRopeHeadDim
        let base = Float(config.ropeTheta)
        let exponents = stride(from: 0, to: dim, by: 2).map { Float($0) / Float(dim) }
        let positionFrequencies = exponents.map { Float(pow(Double(base), Double($0))) }
        interleaved = config.ropeInterleave
        guard let scaling = config.ropeScaling else {
            inverseFrequencies = positionFrequencies.map { 1 / $0 }
            attentionScaling = 1
            return
        }
        let factor = Float(scaling.factor)
        switch scaling.kind {
        case .linear:
            inverseFrequencies = positionFrequencies.map { 1 / $0 / factor }
            attentionScaling = 1
        case .yarn:
            inverseFrequencies = Self.yarnFrequencies(positionFrequencies, dim: dim, base: Double(config.ropeTheta), scaling: scaling)
            attentionScaling = Float(Self.yarnAttentionFactor(scaling))
        }
    }

    /// YaRN's magnitude correction `0.1 · mscale · ln(factor) + 1` (1 when `factor ≤ 1`).
    public static func yarnMscale(factor: Double, mscale: Double = 1) -> Double {
        factor <= 1 ? 1 : 0.1 * mscale * log(factor) + 1
    }

    static func yarnAttentionFactor(_ s: RopeScaling) -> Double {
        if let explicit = s.attentionFactor { return explicit }
        if let m = s.mscale, let all = s.mscaleAllDim, m != 0, all != 0 {
            return yarnMscale(factor: s.factor, mscale: m) / yarnMscale(factor: s.factor, mscale: all)
        }
        return yarnMscale(factor: s.factor)
    }

    /// Blends interpolated (`/ factor`) and original frequencies with a linear ramp between the
    /// dimensions that complete `beta_fast` and `beta_slow` rotations over the original context.
    static func yarnFrequencies(_ positionFrequencies: [Float], dim: Int, base: Double, scaling s: RopeScaling) -> [Float] {
        func correctionDim(_ rotations: Double) -> Double {
            Double(dim) * log(Double(s.originalMaxPositionEmbeddings) / (rotations * 2 * .pi)) / (2 * log(base))
        }
        var low = correctionDim(s.betaFast), high = correctionDim(s.betaSlow)
        if s.truncate { low = low.rounded(.down); high = high.rounded(.up) }
        low = max(low, 0)
        high = min(high, Double(dim - 1))
        if low == high { high += 0.001 }
        let factor = Float(s.factor)
        return positionFrequencies.enumerated().map { i, frequency in
            let ramp = min(max((Float(i) - Float(low)) / (Float(high) - Float(low)), 0), 1)
            let extrapolation = 1 - ramp
            let interpolated = 1 / (factor * frequency)
            let original = 1 / frequency
            return interpolated * (1 - extrapolation) + original * extrapolation
        }
    }

    /// cos and sin for each of `positions`, computed once per forward pass for all layers.
    public func angles(positions: Range<Int>) -> RotaryAngles {
        RotaryAngles(values: positions.map { angles(at: $0) }, interleaved: interleaved)
    }

    /// cos and sin of every pair's angle at `position`, scaled by `attentionScaling`.
    public func angles(at position: Int) -> (cos: [Float], sin: [Float]) {
        let p = Float(position)
        var c = [Float](repeating: 0, count: inverseFrequencies.count)
        var s = c
        for (i, frequency) in inverseFrequencies.enumerated() {
            let angle = p * frequency
            c[i] = Foundation.cos(angle) * attentionScaling
            s[i] = Foundation.sin(angle) * attentionScaling
        }
        return (c, s)
    }
}

/// Rotary cos/sin for a run of consecutive positions, and how pairs are laid out.
public struct RotaryAngles: Sendable {
    public let values: [(cos: [Float], sin: [Float])]
    public let interleaved: Bool
}
