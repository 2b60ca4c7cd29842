extension ModelConfig {
    /// Rejects configurations the code cannot run, naming the offending key.
    public func validate() throws {
        func positive(_ value: Int, _ key: String) throws {
            guard value > 0 else { throw ModelError.unsupportedConfig(key: key, value: "\(value)", supported: "a positive integer") }
        }
        try positive(vocabSize, "vocab_size")
        try positive(hiddenSize, "hidden_size")
        try positive(intermediateSize, "intermediate_size")
        try positive(numHiddenLayers, "num_hidden_layers")
        try positive(numAttentionHeads, "num_attention_heads")
        try positive(kvLoraRank, "kv_lora_rank")
        try positive(qkRopeHeadDim, "qk_rope_head_dim")
        try positive(vHeadDim, "v_head_dim")
        try positive(maxPositionEmbeddings, "max_position_embeddings")
        try positive(moeLayerFreq, "moe_layer_freq")
        if let rank = qLoraRank { try positive(rank, "q_lora_rank") }
        guard qkNopeHeadDim >= 0 else {
            throw ModelError.unsupportedConfig(key: "qk_nope_head_dim", value: "\(qkNopeHeadDim)", supported: "zero or more")
        }
        guard qkRopeHeadDim % 2 == 0 else {
            throw ModelError.unsupportedConfig(key: "qk_rope_head_dim", value: "\(qkRopeHeadDim)", supported: "an even number")
        }
        guard hiddenAct == "silu" else {
            throw ModelError.unsupportedConfig(key: "hidden_act", value: "'\(hiddenAct)'", supported: "silu")
        }
        guard firstKDenseReplace >= 0, numNextnPredictLayers >= 0 else {
            throw ModelError.unsupportedConfig(key: firstKDenseReplace < 0 ? "first_k_dense_replace" : "num_nextn_predict_layers",
                                               value: "\(min(firstKDenseReplace, numNextnPredictLayers))", supported: "zero or more")
        }
        guard rmsNormEps > 0 else {
            throw ModelError.unsupportedConfig(key: "rms_norm_eps", value: "\(rmsNormEps)", supported: "a positive number")
        }
        guard ropeTheta > 1 else {
            throw ModelError.unsupportedConfig(key: "rope_theta", value: "\(ropeTheta)", supported: "a number above 1")
        }
        if let rope = ropeScaling, !(rope.factor > 0) {
            throw ModelError.unsupportedConfig(key: "rope_scaling.factor", value: "\(rope.factor)", supported: "a positive number")
        }
        if let experts = nRoutedExperts { try validateRouting(experts: experts) }
    }

    private func validateRouting(experts: Int) throws {
        guard experts > 0 else { throw ModelError.unsupportedConfig(key: "n_routed_experts", value: "\(experts)", supported: "a positive integer or null") }
        guard moeIntermediateSize > 0 else {
            throw ModelError.unsupportedConfig(key: "moe_intermediate_size", value: "\(moeIntermediateSize)", supported: "a positive integer")
        }
        guard nSharedExperts >= 0 else {
            throw ModelError.unsupportedConfig(key: "n_shared_experts", value: "\(nSharedExperts)", supported: "zero or more")
        }
        guard numExpertsPerTok > 0, numExpertsPerTok <= experts else {
            throw ModelError.unsupportedConfig(key: "num_experts_per_tok", value: "\(numExpertsPerTok)", supported: "1...\(experts) (n_routed_experts)")
        }
        guard topkMethod != .greedy else { return }
        guard nGroup > 0, experts % nGroup == 0 else {
            throw ModelError.unsupportedConfig(key: "n_group", value: "\(nGroup)", supported: "a divisor of n_routed_experts (\(experts))")
        }
        guard topkGroup > 0, topkGroup <= nGroup else {
            throw ModelError.unsupportedConfig(key: "topk_group", value: "\(topkGroup)", supported: "1...\(nGroup) (n_group)")
        }
        let perGroup = experts / nGroup
        guard numExpertsPerTok <= topkGroup * perGroup else {
            throw ModelError.unsupportedConfig(key: "num_experts_per_tok", value: "\(numExpertsPerTok)",
                                               supported: "at most topk_group × experts per group = \(topkGroup * perGroup)")
        }
        if topkMethod == .noauxTC && perGroup < 2 {
            throw ModelError.unsupportedConfig(key: "n_group", value: "\(nGroup)",
                                               supported: "groups of at least 2 experts for noaux_tc (it scores a group by its top two)")
        }
    }
}
