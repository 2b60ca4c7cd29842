/// The terms of the training objective besides next-token cross-entropy.
public struct LossOptions: Sendable, Equatable {
    /// α of DeepSeek-V3's sequence-wise balance loss per MoE layer (the paper uses 0.0001); 0 turns it off.
    public var balanceCoefficient: Float
    /// λ, the weight of the multi-token-prediction loss averaged over its depths (the paper: 0.3, then 0.1).
    public var mtpWeight: Float

    public init(balanceCoefficient: Float = 1e-4, mtpWeight: Float = 0.3) {
        self.balanceCoefficient = balanceCoefficient
        self.mtpWeight = mtpWeight
    }
}

/// What one forward (and backward) pass measured.
public struct LossReport: Sendable {
    /// Mean next-token cross-entropy (nats) over the positions with a target.
    public var loss: Double
    /// Mean cross-entropy of each multi-token-prediction depth.
    public var mtpLosses: [Double]
    /// The balance loss summed over MoE layers (already times its coefficient).
    public var balanceLoss: Double
    /// Positions with a target.
    public var targets: Int
    /// Tokens routed to each expert, per MoE layer (keyed by layer index).
    public var expertLoad: [Int: [Int]]
    /// Peak bytes of the main blocks' activations held for the backward pass: keeping every block's, and
    /// recomputing them (each block's input kept, one block's activations at a time).
    public var activationBytes = 0
    public var activationBytesRecomputing = 0

    /// The objective that was differentiated: `loss + λ · mean(mtpLosses) + balanceLoss`.
    public func objective(_ options: LossOptions) -> Double {
        loss + (mtpLosses.isEmpty ? 0 : Double(options.mtpWeight) * mtpLosses.reduce(0, +) / Double(mtpLosses.count)) + balanceLoss
    }
}
