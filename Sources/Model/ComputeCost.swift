import Tensors

/// Bytes moved and floating-point work of a forward step, from the config and the stored formats —
/// what a roofline compares measured times against.
public struct ComputeCost: Sendable {
    /// Weight bytes a decoded token reads: everything but the routed experts, plus the expected share
    /// of routed expert bytes (`num_experts_per_tok / n_routed_experts`), plus one embedding row. The
    /// absorbed attention reads `kv_b_proj`'s value half and the transposed key matrices (`AbsorbedKeys`)
    /// instead of its key half.
    public let weightBytesPerToken: Int
    /// Multiply-adds of the matrix products for one token (attention excluded).
    public let matrixMultiplyAddsPerToken: Int
    let config: ModelConfig

    /// - Parameter absorbedKeyBytes: bytes of every layer's transposed key matrices (`Transformer.absorbedKeyBytes`).
    public init(config: ModelConfig, checkpoint: Checkpoint, absorbedKeyBytes: Int) {
        self.config = config
        var bytes = absorbedKeyBytes, macs = 0
        let keyShare = Double(config.qkNopeHeadDim) / Double(config.qkNopeHeadDim + config.vHeadDim)
        let experts = Double(config.nRoutedExperts ?? 1), share = Double(config.numExpertsPerTok) / experts
        for spec in ParameterLayout.parameters(config) {
            var stored = checkpoint.entry(spec.name)?.dataRange.count ?? spec.elementCount * 2
            for name in TensorNames.companions(of: spec.name) { stored += checkpoint.entry(name)?.dataRange.count ?? 0 }
            switch spec.role {
            case .embedding:
                bytes += stored / max(config.vocabSize, 1)
                if ParameterLayout.head(config) == nil { bytes += stored; macs += spec.elementCount }
            case .linear where spec.name.hasSuffix(".kv_b_proj.weight"):
                bytes += stored - Int(Double(stored) * keyShare)
                macs += spec.elementCount
            case .linear where spec.name.contains(".mlp.experts."):
                bytes += Int(Double(stored) * share)
                macs += Int(Double(spec.elementCount) * share)
            case .linear, .router, .head:
                bytes += stored
                macs += spec.elementCount
            case .norm, .bias, .routerBias:
                bytes += stored
            }
        }
        weightBytesPerToken = bytes
        matrixMultiplyAddsPerToken = macs
    }

    /// Latent-cache bytes one decoded token reads at `depth` cached positions (F32 values).
    public func cacheBytesPerToken(depth: Int) -> Int { depth * config.latentCacheWidth * config.numHiddenLayers * 4 }

    /// Floating-point operations of one decoded token at `depth` (absorbed attention: scores and
    /// weighted sums over the latent, plus moving the query in and the output out of latent space).
    public func decodeFLOPs(depth: Int) -> Double {
        let c = config, heads = Double(c.numAttentionHeads), rank = Double(c.kvLoraRank)
        let positions = Double(depth + 1)
        let attention = heads * (positions * (2 * rank + Double(c.qkRopeHeadDim)) + Double(c.qkNopeHeadDim + c.vHeadDim) * rank)
        return 2 * (Double(matrixMultiplyAddsPerToken) + Double(c.numHiddenLayers) * attention)
    }

    /// Floating-point operations of a prefill of `tokens` from an empty cache (expanded attention, causal).
    public func prefillFLOPs(tokens: Int) -> Double {
        let c = config, t = Double(tokens)
        let kvB = Double(c.numAttentionHeads * (c.qkNopeHeadDim + c.vHeadDim) * c.kvLoraRank)
        let attention = Double(c.numAttentionHeads) * t * (t + 1) / 2 * Double(c.qkHeadDim + c.vHeadDim)
        return 2 * (t * Double(matrixMultiplyAddsPerToken) + Double(c.numHiddenLayers) * (t * kvB + attention))
    }
}
