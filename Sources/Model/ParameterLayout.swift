/// One parameter of the model: its checkpoint name, shape and what it is.
public struct ParameterSpec: Sendable, Hashable {
    public enum Role: Sendable, Hashable {
        /// Token embedding table `[vocab, hidden]`.
        case embedding
        /// A linear layer's weight `[out, in]` (what FP8 and integer formats quantize).
        case linear
        /// The router's weight `[experts, hidden]` (kept in high precision by the official release).
        case router
        /// An RMSNorm scale.
        case norm
        /// A linear layer's bias.
        case bias
        /// The router's `e_score_correction_bias` (F32 in the official release).
        case routerBias
        /// The output head `[vocab, hidden]`.
        case head
    }

    public let name: String
    public let shape: [Int]
    public let role: Role

    public var elementCount: Int { shape.reduce(1, *) }
}

/// Every parameter a config implies — the one enumeration that loading, initialising, quantizing and
/// (later) training share. Shapes are defined here and nowhere else.
public enum ParameterLayout {
    /// All parameters of the main model, in order: embedding, each layer, final norm, head.
    public static func parameters(_ c: ModelConfig) -> [ParameterSpec] {
        var all = [embedding(c)]
        for l in 0..<c.numHiddenLayers {
            all += [inputNorm(c, l)] + TensorNames.AttentionPart.allCases.compactMap { attention(c, l, $0) } + [postAttentionNorm(c, l)]
            if c.isMoELayer(l) {
                let r = router(c, l)
                all += [r.weight] + (r.bias.map { [$0] } ?? [])
                for e in 0..<(c.nRoutedExperts ?? 0) { all += TensorNames.Projection.allCases.map { expert(c, l, e, $0) } }
                if c.nSharedExperts > 0 { all += TensorNames.Projection.allCases.map { sharedExpert(c, l, $0) } }
            } else {
                all += TensorNames.Projection.allCases.map { denseMLP(c, l, $0) }
            }
        }
        all.append(finalNorm(c))
        if let head = head(c) { all.append(head) }
        return all
    }

    static func embedding(_ c: ModelConfig) -> ParameterSpec {
        ParameterSpec(name: TensorNames.embedding, shape: [c.vocabSize, c.hiddenSize], role: .embedding)
    }

    static func finalNorm(_ c: ModelConfig) -> ParameterSpec {
        ParameterSpec(name: TensorNames.finalNorm, shape: [c.hiddenSize], role: .norm)
    }

    /// The output head; nil when tied to the embedding (the checkpoint may still carry a copy).
    static func head(_ c: ModelConfig) -> ParameterSpec? {
        c.tieWordEmbeddings ? nil : ParameterSpec(name: TensorNames.head, shape: [c.vocabSize, c.hiddenSize], role: .head)
    }

    static func inputNorm(_ c: ModelConfig, _ l: Int) -> ParameterSpec {
        ParameterSpec(name: TensorNames.inputNorm(l), shape: [c.hiddenSize], role: .norm)
    }

    static func postAttentionNorm(_ c: ModelConfig, _ l: Int) -> ParameterSpec {
        ParameterSpec(name: TensorNames.postAttentionNorm(l), shape: [c.hiddenSize], role: .norm)
    }

    /// An MLA parameter, or nil when this config has no such part (q-LoRA vs `q_proj`, biases).
    static func attention(_ c: ModelConfig, _ l: Int, _ part: TensorNames.AttentionPart) -> ParameterSpec? {
        let heads = c.numAttentionHeads, hidden = c.hiddenSize
        let shape: [Int]?, role: ParameterSpec.Role
        switch part {
        case .qProj: (shape, role) = (c.qLoraRank == nil ? [heads * c.qkHeadDim, hidden] : nil, .linear)
        case .qAProj: (shape, role) = (c.qLoraRank.map { [$0, hidden] }, .linear)
        case .qAProjBias: (shape, role) = (c.attentionBias ? c.qLoraRank.map { [$0] } : nil, .bias)
        case .qANorm: (shape, role) = (c.qLoraRank.map { [$0] }, .norm)
        case .qBProj: (shape, role) = (c.qLoraRank.map { [heads * c.qkHeadDim, $0] }, .linear)
        case .kvAProjWithMQA: (shape, role) = ([c.latentCacheWidth, hidden], .linear)
        case .kvAProjWithMQABias: (shape, role) = (c.attentionBias ? [c.latentCacheWidth] : nil, .bias)
        case .kvANorm: (shape, role) = ([c.kvLoraRank], .norm)
        case .kvBProj: (shape, role) = ([heads * (c.qkNopeHeadDim + c.vHeadDim), c.kvLoraRank], .linear)
        case .oProj: (shape, role) = ([hidden, heads * c.vHeadDim], .linear)
        case .oProjBias: (shape, role) = (c.attentionBias ? [hidden] : nil, .bias)
        }
        return shape.map { ParameterSpec(name: TensorNames.attention(l, part), shape: $0, role: role) }
    }

    static func projection(_ name: String, _ p: TensorNames.Projection, hidden: Int, intermediate: Int) -> ParameterSpec {
        ParameterSpec(name: name, shape: p == .down ? [hidden, intermediate] : [intermediate, hidden], role: .linear)
    }

    static func denseMLP(_ c: ModelConfig, _ l: Int, _ p: TensorNames.Projection) -> ParameterSpec {
        projection(TensorNames.denseMLP(l, p), p, hidden: c.hiddenSize, intermediate: c.intermediateSize)
    }

    static func expert(_ c: ModelConfig, _ l: Int, _ e: Int, _ p: TensorNames.Projection) -> ParameterSpec {
        projection(TensorNames.expert(l, e, p), p, hidden: c.hiddenSize, intermediate: c.moeIntermediateSize)
    }

    static func sharedExpert(_ c: ModelConfig, _ l: Int, _ p: TensorNames.Projection) -> ParameterSpec {
        projection(TensorNames.sharedExpert(l, p), p, hidden: c.hiddenSize, intermediate: c.moeIntermediateSize * c.nSharedExperts)
    }

    /// The router weight, and its correction bias where `noaux_tc` needs one.
    static func router(_ c: ModelConfig, _ l: Int) -> (weight: ParameterSpec, bias: ParameterSpec?) {
        let experts = c.nRoutedExperts ?? 0
        return (ParameterSpec(name: TensorNames.router(l), shape: [experts, c.hiddenSize], role: .router),
                c.topkMethod == .noauxTC ? routerBias(c, l) : nil)
    }

    static func routerBias(_ c: ModelConfig, _ l: Int) -> ParameterSpec {
        ParameterSpec(name: TensorNames.routerBias(l), shape: [c.nRoutedExperts ?? 0], role: .routerBias)
    }
}
