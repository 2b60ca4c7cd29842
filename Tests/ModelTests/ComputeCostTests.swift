import Testing
@testable import Model
@testable import Tensors

@Suite struct ComputeCostTests {
    /// Bytes per decoded token: everything except the unchosen share of routed experts and all but one
    /// embedding row — computed independently here from the checkpoint's headers.
    @Test func weightBytesPerTokenFollowsTheDefinition() throws {
        let config = try ModelConfig.load(directory: Fixtures.model("v3-bf16"))
        let checkpoint = try Checkpoint(directory: Fixtures.model("v3-bf16"))
        var expected = 0.0
        for name in checkpoint.names {
            let bytes = Double(checkpoint.entry(name)!.dataRange.count)
            if name == TensorNames.embedding {
                expected += bytes / Double(config.vocabSize)
            } else if name.hasSuffix("kv_b_proj.weight") {
                // The value half; the key half is read from the transposed copy, counted below.
                expected += bytes * Double(config.vHeadDim) / Double(config.qkNopeHeadDim + config.vHeadDim)
            } else if name.contains(".mlp.experts.") {
                expected += bytes * Double(config.numExpertsPerTok) / Double(config.nRoutedExperts!)
            } else {
                expected += bytes
            }
        }
        let model = try Transformer(config: config, checkpoint: checkpoint)
        // BF16 keys stay BF16 when transposed: as many bytes as the key halves.
        let keyHalves = config.numHiddenLayers * config.numAttentionHeads * config.qkNopeHeadDim * config.kvLoraRank * 2
        #expect(model.absorbedKeyBytes == keyHalves)
        expected += Double(model.absorbedKeyBytes)
        let cost = ComputeCost(config: config, checkpoint: checkpoint, absorbedKeyBytes: model.absorbedKeyBytes)
        #expect(abs(Double(cost.weightBytesPerToken) - expected) <= 16)
        #expect(cost.cacheBytesPerToken(depth: 10) == 10 * config.latentCacheWidth * config.numHiddenLayers * 4)
        #expect(cost.decodeFLOPs(depth: 100) > cost.decodeFLOPs(depth: 0))
        #expect(cost.prefillFLOPs(tokens: 8) > 8 * 2 * Double(cost.matrixMultiplyAddsPerToken))
    }
}
