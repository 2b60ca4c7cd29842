import Foundation
import JSON
import Testing
@testable import Model

@Suite struct ModelConfigTests {
    let minimal = """
        {"model_type": "deepseek_v3", "vocab_size": 100, "hidden_size": 32, "intermediate_size": 64,
         "num_hidden_layers": 4, "num_attention_heads": 2, "kv_lora_rank": 16, "qk_nope_head_dim": 8,
         "qk_rope_head_dim": 4, "v_head_dim": 8, "n_routed_experts": 16, "q_lora_rank": null
        """

    func config(_ extra: String = "") throws -> ModelConfig {
        try ModelConfig.decode(Data((minimal + extra + "}").utf8))
    }

    func expectError(_ extra: String, naming key: String) {
        do {
            _ = try config(extra)
            Issue.record("expected an error naming \(key)")
        } catch {
            #expect("\(error)".contains(key), "\(error)")
        }
    }

    @Test func missingKeysTakeTransformersDefaults() throws {
        let c = try config()
        #expect(c.qLoraRank == nil)
        #expect(c.nGroup == 8 && c.topkGroup == 4 && c.numExpertsPerTok == 8)
        #expect(c.topkMethod == .noauxTC && c.scoringFunc == .sigmoid && c.normTopkProb)
        #expect(c.routedScalingFactor == 2.5 && c.firstKDenseReplace == 3 && c.nSharedExperts == 1)
        #expect(c.ropeInterleave && c.ropeScaling == nil && c.ropeTheta == 10000)
        let v2 = try ModelConfig.decode(Data((minimal.replacingOccurrences(of: "deepseek_v3", with: "deepseek_v2") + ", \"n_group\": 1}").utf8))
        #expect(v2.topkMethod == .greedy && v2.scoringFunc == .softmax && !v2.normTopkProb && v2.routedScalingFactor == 1)
    }

    @Test func ropeParametersAndRopeScalingAreTheSame() throws {
        let old = try config(#", "rope_theta": 50000, "rope_scaling": {"type": "yarn", "factor": 40, "original_max_position_embeddings": 4096, "mscale": 1, "mscale_all_dim": 1}"#)
        let new = try config(#", "rope_parameters": {"rope_type": "yarn", "rope_theta": 50000, "factor": 40, "original_max_position_embeddings": 4096, "mscale": 1, "mscale_all_dim": 1}"#)
        #expect(old == new)
        #expect(old.ropeScaling?.kind == .yarn && old.ropeTheta == 50000)
        // softmax scale: 1/sqrt(12) × (0.1 ln 40 + 1)²
        let expected = 1 / Double(12).squareRoot() * pow(0.1 * log(40) + 1, 2)
        #expect(abs(Double(old.softmaxScale) - expected) < 1e-6)
    }

    @Test func layerKindsFollowFirstDenseAndFrequency() throws {
        let c = try config(#", "first_k_dense_replace": 1, "moe_layer_freq": 2, "n_group": 4, "topk_group": 2, "num_experts_per_tok": 2"#)
        #expect((0..<4).map(c.isMoELayer) == [false, false, true, false])
        let dense = try config(#", "n_routed_experts": null"#)
        #expect((0..<4).allSatisfy { !dense.isMoELayer($0) })
    }

    @Test func aliasesAndListsAreAccepted() throws {
        let kimi = try ModelConfig.decode(Data((minimal.replacingOccurrences(of: "deepseek_v3", with: "kimi_k2") + #", "eos_token_id": [1, 2]}"#).utf8))
        #expect(kimi.modelType == .kimiK2 && kimi.eosTokenIds == [1, 2])
    }

    @Test func fp8QuantizationConfig() throws {
        let c = try config(#", "quantization_config": {"quant_method": "fp8", "fmt": "e4m3", "weight_block_size": [128, 128], "activation_scheme": "dynamic"}"#)
        #expect(c.quantization == QuantizationConfig(blockRows: 128, blockColumns: 128))
        expectError(#", "quantization_config": {"quant_method": "gptq"}"#, naming: "quantization_config.quant_method")
        expectError(#", "quantization_config": {"quant_method": "fp8", "weight_block_size": [128]}"#, naming: "weight_block_size")
    }

    @Test func badValuesNameTheKey() {
        expectError(#", "hidden_size": "32""#, naming: "hidden_size")
        expectError(#", "norm_topk_prob": 1"#, naming: "norm_topk_prob")
        expectError(#", "n_group": 5"#, naming: "n_group")
        expectError(#", "n_group": 4, "topk_group": 5"#, naming: "topk_group")
        expectError(#", "num_experts_per_tok": 17"#, naming: "num_experts_per_tok")
        expectError(#", "qk_rope_head_dim": 5"#, naming: "qk_rope_head_dim")
        expectError(#", "hidden_act": "gelu""#, naming: "hidden_act")
        expectError(#", "scoring_func": "relu""#, naming: "scoring_func")
        expectError(#", "rope_scaling": {"type": "dynamic", "factor": 2}"#, naming: "rope_scaling.type")
        expectError(#", "rope_scaling": {"type": "yarn", "factor": 2}"#, naming: "rope_scaling.original_max_position_embeddings")
        expectError(#", "num_hidden_layers": 0"#, naming: "num_hidden_layers")
        expectError(#", "moe_layer_freq": 0"#, naming: "moe_layer_freq")
    }

    @Test func missingRequiredKeyAndWrongModelType() {
        #expect(throws: ModelError.invalidConfig(path: "config.json", key: "vocab_size", detail: "missing")) {
            try ModelConfig.decode(Data(#"{"model_type": "deepseek_v3"}"#.utf8))
        }
        #expect(throws: ModelError.self) { try ModelConfig.decode(Data(#"{"model_type": "llama"}"#.utf8)) }
        #expect(throws: ModelError.self) { try ModelConfig.decode(Data("[]".utf8)) }
    }
}
