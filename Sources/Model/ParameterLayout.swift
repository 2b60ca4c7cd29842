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

    public init(name: String, shape: [Int], role: Role) {
        self.name = name
        self.shape = shape
        self.role = role
    }

    public var elementCount: Int { shape.reduce(1, *) }
}

/// Every parameter a config implies — the one enumeration that loading, initialising, quantizing and
/// (later) training share. Shapes are defined here and nowhere else.
public enum ParameterLayout {
    /// All parameters of the main model, in order: embedding, each layer, final norm, head.
    public static func parameters(_ c: ModelConfig) -> [ParameterSpec] {
        var all = [embedding(c)]
        for l in 0..<c.numHiddenLayers { all += block(c, l) }
        all.append(finalNorm(c))
        if let head = head(c) { all.append(head) }
        return all
    }

    /// The parameters of transformer block `l`: norms, attention, and the dense MLP or the MoE.
    public static func block(_ c: ModelConfig, _ l: Int) -> [ParameterSpec] {
        var all = [inputNorm(c, l)] + TensorNames.AttentionPart.allCases.compactMap { attention(c, l, $0) } + [postAttentionNorm(c, l)]
        if c.isMoELayer(l) {
            let r = router(c, l)
            all += [r.weight] + (r.bias.map { [$0] } ?? [])
            for e in 0..<(c.nRoutedExperts ?? 0) { all += TensorNames.Projection.allCases.map { expert(c, l, e, $0) } }
            if c.nSharedExperts > 0 { all += TensorNames.Projection.allCases.map { sharedExpert(c, l, $0) } }
        } else {
            all += TensorNames.Projection.allCases.map { denseMLP(c, l, $0) }
        }
        return all
    }

    /// The layer index of multi-token-prediction depth `depth` (1-based), stored after the main layers.
    public static func mtpLayer(_ c: ModelConfig, depth: Int) -> Int { c.numHiddenLayers + depth - 1 }

    /// The parameters of every multi-token-prediction module (DeepSeek-V3 §2.2): per depth, the norms of
    /// its two inputs, their projection `eh_proj` `[hidden, 2·hidden]`, a block and the shared head's norm.
    /// The embedding and the output head are the main model's; checkpoints store copies (`mtpCopies`).
    public static func multiTokenPrediction(_ c: ModelConfig) -> [ParameterSpec] {
        (0..<c.numNextnPredictLayers).flatMap { k -> [ParameterSpec] in
            let depth = k + 1
            return [mtp(c, depth: depth, .enorm), mtp(c, depth: depth, .hnorm), mtp(c, depth: depth, .ehProj)]
                + block(c, mtpLayer(c, depth: depth)) + [mtp(c, depth: depth, .sharedHeadNorm)]
        }
    }

    /// One of an MTP module's own parameters (the norms and `eh_proj`; the copies are `mtpCopies`').
    public static func mtp(_ c: ModelConfig, depth: Int, _ part: TensorNames.MTPPart) -> ParameterSpec {
        let name = TensorNames.mtp(mtpLayer(c, depth: depth), part), hidden = c.hiddenSize
        switch part {
        case .enorm, .hnorm, .sharedHeadNorm: return ParameterSpec(name: name, shape: [hidden], role: .norm)
        case .ehProj: return ParameterSpec(name: name, shape: [hidden, 2 * hidden], role: .linear)
        case .embedding: return ParameterSpec(name: name, shape: [c.vocabSize, hidden], role: .embedding)
        case .sharedHead: return ParameterSpec(name: name, shape: [c.vocabSize, hidden], role: .head)
        }
    }

    /// The per-module copies of the embedding and head a checkpoint stores for each MTP depth, each with
    /// the main model's parameter it copies.
    public static func mtpCopies(_ c: ModelConfig) -> [(copy: ParameterSpec, of: ParameterSpec)] {
        let main = embedding(c), output = head(c) ?? main
        return (0..<c.numNextnPredictLayers).flatMap { k in
            [(mtp(c, depth: k + 1, .embedding), main), (mtp(c, depth: k + 1, .sharedHead), output)]
        }
    }

    public static func embedding(_ c: ModelConfig) -> ParameterSpec {
        ParameterSpec(name: TensorNames.embedding, shape: [c.vocabSize, c.hiddenSize], role: .embedding)
    }

    public static func finalNorm(_ c: ModelConfig) -> ParameterSpec {
        ParameterSpec(name: TensorNames.finalNorm, shape: [c.hiddenSize], role: .norm)
    }

    /// The output head; nil when tied to the embedding (the checkpoint may still carry a copy).
    public static func head(_ c: ModelConfig) -> ParameterSpec? {
        c.tieWordEmbeddings ? nil : ParameterSpec(name: TensorNames.head, shape: [c.vocabSize, c.hiddenSize], role: .head)
    }

    public static func inputNorm(_ c: ModelConfig, _ l: Int) -> ParameterSpec {
        ParameterSpec(name: TensorNames.inputNorm(l), shape: [c.hiddenSize], role: .norm)
    }

    public static func postAttentionNorm(_ c: ModelConfig, _ l: Int) -> ParameterSpec {
        ParameterSpec(name: TensorNames.postAttentionNorm(l), shape: [c.hiddenSize], role: .norm)
    }

    /// An MLA parameter, or nil when this config has no such part (q-LoRA vs `q_proj`, biases).
    public static func attention(_ c: ModelConfig, _ l: Int, _ part: TensorNames.AttentionPart) -> ParameterSpec? {
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

    public static func projection(_ name: String, _ p: TensorNames.Projection, hidden: Int, intermediate: Int) -> ParameterSpec {
        ParameterSpec(name: name, shape: p == .down ? [hidden, intermediate] : [intermediate, hidden], role: .linear)
    }

    public static func denseMLP(_ c: ModelConfig, _ l: Int, _ p: TensorNames.Projection) -> ParameterSpec {
        projection(TensorNames.denseMLP(l, p), p, hidden: c.hiddenSize, intermediate: c.intermediateSize)
    }

    public static func expert(_ c: ModelConfig, _ l: Int, _ e: Int, _ p: TensorNames.Projection) -> ParameterSpec {
        projection(TensorNames.expert(l, e, p), p, hidden: c.hiddenSize, intermediate: c.moeIntermediateSize)
    }

    public static func sharedExpert(_ c: ModelConfig, _ l: Int, _ p: TensorNames.Projection) -> ParameterSpec {
        projection(TensorNames.sharedExpert(l, p), p, hidden: c.hiddenSize, intermediate: c.moeIntermediateSize * c.nSharedExperts)
    }

    /// The router weight, and its correction bias where `noaux_tc` needs one.
    public static func router(_ c: ModelConfig, _ l: Int) -> (weight: ParameterSpec, bias: ParameterSpec?) {
        let experts = c.nRoutedExperts ?? 0
        return (ParameterSpec(name: TensorNames.router(l), shape: [experts, c.hiddenSize], role: .router),
                c.topkMethod == .noauxTC ? routerBias(c, l) : nil)
    }

    public static func routerBias(_ c: ModelConfig, _ l: Int) -> ParameterSpec {
        ParameterSpec(name: TensorNames.routerBias(l), shape: [c.nRoutedExperts ?? 0], role: .routerBias)
    }
}
