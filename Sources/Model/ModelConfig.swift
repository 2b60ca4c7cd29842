import Foundation
import JSON

/// The architecture of a DeepSeek-V2/V3-family checkpoint, read from its `config.json`.
///
/// Property names mirror the Hugging Face keys (`q_lora_rank` → `qLoraRank`). Keys that change
/// the computation are required or defaulted exactly as the Hugging Face config class of the
/// `model_type` defaults them; `validate()` rejects values the code cannot run, naming the key.
public struct ModelConfig: Sendable, Equatable {
    public enum ModelType: String, Sendable { case deepseekV3 = "deepseek_v3", deepseekV2 = "deepseek_v2", kimiK2 = "kimi_k2" }
    public enum ScoringFunction: String, Sendable { case sigmoid, softmax }
    public enum TopKMethod: String, Sendable { case noauxTC = "noaux_tc", groupLimitedGreedy = "group_limited_greedy", greedy }

    public var modelType: ModelType
    public var vocabSize: Int
    public var hiddenSize: Int
    public var intermediateSize: Int
    public var moeIntermediateSize: Int
    public var numHiddenLayers: Int
    public var numAttentionHeads: Int
    /// Rank of the query compression; nil means a full `q_proj` (V2-Lite).
    public var qLoraRank: Int?
    public var kvLoraRank: Int
    public var qkNopeHeadDim: Int
    public var qkRopeHeadDim: Int
    public var vHeadDim: Int
    /// Number of routed experts; nil means every layer is dense.
    public var nRoutedExperts: Int?
    public var nSharedExperts: Int
    public var numExpertsPerTok: Int
    public var nGroup: Int
    public var topkGroup: Int
    public var topkMethod: TopKMethod
    public var scoringFunc: ScoringFunction
    public var normTopkProb: Bool
    public var routedScalingFactor: Float
    public var firstKDenseReplace: Int
    public var moeLayerFreq: Int
    public var ropeTheta: Double
    public var ropeScaling: RopeScaling?
    public var ropeInterleave: Bool
    public var rmsNormEps: Float
    public var tieWordEmbeddings: Bool
    public var maxPositionEmbeddings: Int
    /// Multi-token-prediction modules stored after the main layers (recognised, not run here).
    public var numNextnPredictLayers: Int
    public var attentionBias: Bool
    public var hiddenAct: String
    public var bosTokenId: Int?
    public var eosTokenIds: [Int]
    /// FP8 block scaling from `quantization_config`, nil for unquantized checkpoints.
    public var quantization: QuantizationConfig?

    // MARK: Derived sizes

    /// Query/key head size: the non-positional part plus the rotary part.
    public var qkHeadDim: Int { qkNopeHeadDim + qkRopeHeadDim }
    /// Values cached per token per layer: the compressed latent plus the shared rotary key.
    public var latentCacheWidth: Int { kvLoraRank + qkRopeHeadDim }
    /// Whether layer `layer` uses DeepSeekMoE rather than the dense MLP.
    public func isMoELayer(_ layer: Int) -> Bool {
        guard nRoutedExperts != nil else { return false }
        return layer >= firstKDenseReplace && layer % moeLayerFreq == 0
    }
    /// Softmax scale `1/sqrt(qkHeadDim)`, times YaRN's `mscale(factor, mscale_all_dim)²`.
    public var softmaxScale: Float {
        var scale = 1 / Double(qkHeadDim).squareRoot()
        if let rope = ropeScaling, rope.kind == .yarn, let all = rope.mscaleAllDim, all != 0 {
            let m = RotaryEmbedding.yarnMscale(factor: rope.factor, mscale: all)
            scale *= m * m
        }
        return Float(scale)
    }
}

extension ModelConfig {
    /// Reads and validates `directory/config.json`.
    public static func load(directory: String) throws -> ModelConfig {
        let path = URL(fileURLWithPath: directory).appendingPathComponent("config.json").path
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ModelError.missingFile(path: path)
        }
        return try decode(data, path: path)
    }

    /// Parses config.json bytes (`path` is only used in error messages) and validates them.
    public static func decode(_ data: Data, path: String = "config.json") throws -> ModelConfig {
        let parsed: JSONValue
        do {
            parsed = try JSONValue.parse(data)
        } catch {
            throw ModelError.invalidConfig(path: path, key: "(file)", detail: "\(error)")
        }
        guard let object = parsed.objectValue else {
            throw ModelError.invalidConfig(path: path, key: "(file)", detail: "not a JSON object")
        }
        let config = try ModelConfig(json: ConfigReader(object: object, path: path))
        try config.validate()
        return config
    }

    init(json r: ConfigReader) throws {
        guard let typeName = try r.string("model_type") else {
            throw ModelError.invalidConfig(path: r.path, key: "model_type", detail: "missing")
        }
        guard let type = ModelType(rawValue: typeName) else {
            throw ModelError.unsupportedConfig(key: "model_type", value: "'\(typeName)'", supported: "deepseek_v3, deepseek_v2, kimi_k2")
        }
        let v3 = type != .deepseekV2
        modelType = type
        vocabSize = try r.requireInt("vocab_size")
        hiddenSize = try r.requireInt("hidden_size")
        intermediateSize = try r.requireInt("intermediate_size")
        numHiddenLayers = try r.requireInt("num_hidden_layers")
        numAttentionHeads = try r.requireInt("num_attention_heads")
        qLoraRank = try r.int("q_lora_rank")
        kvLoraRank = try r.requireInt("kv_lora_rank")
        qkNopeHeadDim = try r.requireInt("qk_nope_head_dim")
        qkRopeHeadDim = try r.requireInt("qk_rope_head_dim")
        vHeadDim = try r.requireInt("v_head_dim")
        nRoutedExperts = try r.int("n_routed_experts")
        moeIntermediateSize = try r.int("moe_intermediate_size") ?? (nRoutedExperts == nil ? 0 : (v3 ? 2048 : 1407))
        nSharedExperts = try r.int("n_shared_experts") ?? (v3 ? 1 : 2)
        numExpertsPerTok = try r.int("num_experts_per_tok") ?? (v3 ? 8 : 1)
        nGroup = try r.int("n_group") ?? (v3 ? 8 : 1)
        topkGroup = try r.int("topk_group") ?? (v3 ? 4 : 1)
        topkMethod = try r.enumeration("topk_method", default: v3 ? .noauxTC : .greedy)
        scoringFunc = try r.enumeration("scoring_func", default: v3 ? .sigmoid : .softmax)
        normTopkProb = try r.bool("norm_topk_prob") ?? v3
        routedScalingFactor = Float(try r.double("routed_scaling_factor") ?? (v3 ? 2.5 : 1.0))
        firstKDenseReplace = try r.int("first_k_dense_replace") ?? (v3 ? 3 : 0)
        moeLayerFreq = try r.int("moe_layer_freq") ?? 1
        rmsNormEps = Float(try r.double("rms_norm_eps") ?? 1e-6)
        tieWordEmbeddings = try r.bool("tie_word_embeddings") ?? false
        maxPositionEmbeddings = try r.int("max_position_embeddings") ?? (v3 ? 4096 : 2048)
        numNextnPredictLayers = try r.int("num_nextn_predict_layers") ?? 0
        attentionBias = try r.bool("attention_bias") ?? false
        hiddenAct = try r.string("hidden_act") ?? "silu"
        ropeInterleave = try r.bool("rope_interleave") ?? true
        bosTokenId = try r.int("bos_token_id")
        eosTokenIds = try r.intList("eos_token_id")
        let scaling = try r.ropeScaling()
        ropeTheta = try r.double("rope_theta") ?? scaling.theta ?? 10000
        ropeScaling = scaling.scaling
        quantization = try r.quantization()
    }
}
