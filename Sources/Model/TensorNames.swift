/// Every checkpoint tensor name the model reads, in one place (Hugging Face / DeepSeek layout).
///
/// FP8 block-scaled weights carry a sibling `<name>_scale_inv`; see `scaleName(of:)`.
public enum TensorNames {
    public static let embedding = "model.embed_tokens.weight"
    public static let finalNorm = "model.norm.weight"
    public static let head = "lm_head.weight"

    public static func layer(_ layer: Int) -> String { "model.layers.\(layer)" }

    // Attention (MLA).
    public static func inputNorm(_ l: Int) -> String { "\(layer(l)).input_layernorm.weight" }
    public static func postAttentionNorm(_ l: Int) -> String { "\(layer(l)).post_attention_layernorm.weight" }
    public static func attention(_ l: Int, _ part: AttentionPart) -> String { "\(layer(l)).self_attn.\(part.rawValue)" }

    public enum AttentionPart: String, CaseIterable, Sendable {
        case qProj = "q_proj.weight"
        case qAProj = "q_a_proj.weight"
        case qAProjBias = "q_a_proj.bias"
        case qANorm = "q_a_layernorm.weight"
        case qBProj = "q_b_proj.weight"
        case kvAProjWithMQA = "kv_a_proj_with_mqa.weight"
        case kvAProjWithMQABias = "kv_a_proj_with_mqa.bias"
        case kvANorm = "kv_a_layernorm.weight"
        case kvBProj = "kv_b_proj.weight"
        case oProj = "o_proj.weight"
        case oProjBias = "o_proj.bias"
    }

    // Feed-forward: dense MLP, router, routed and shared experts.
    public enum Projection: String, CaseIterable, Sendable {
        case gate = "gate_proj.weight"
        case up = "up_proj.weight"
        case down = "down_proj.weight"
    }

    public static func denseMLP(_ l: Int, _ p: Projection) -> String { "\(layer(l)).mlp.\(p.rawValue)" }
    public static func router(_ l: Int) -> String { "\(layer(l)).mlp.gate.weight" }
    public static func routerBias(_ l: Int) -> String { "\(layer(l)).mlp.gate.e_score_correction_bias" }
    public static func expert(_ l: Int, _ e: Int, _ p: Projection) -> String { "\(layer(l)).mlp.experts.\(e).\(p.rawValue)" }
    public static func sharedExpert(_ l: Int, _ p: Projection) -> String { "\(layer(l)).mlp.shared_experts.\(p.rawValue)" }

    // Multi-token prediction: depth k is stored as layer `num_hidden_layers + k − 1`, a block with these extras.
    public enum MTPPart: String, CaseIterable, Sendable {
        case enorm = "enorm.weight"
        case hnorm = "hnorm.weight"
        case ehProj = "eh_proj.weight"
        case sharedHeadNorm = "shared_head.norm.weight"
        /// Copies of the main model's head and embedding (shared in training, stored per module).
        case sharedHead = "shared_head.head.weight"
        case embedding = "embed_tokens.weight"
    }

    public static func mtp(_ l: Int, _ part: MTPPart) -> String { "\(layer(l)).\(part.rawValue)" }

    /// The block-scale tensor of an FP8 weight (`weight_scale_inv`, multiplied in at dequantisation).
    public static func scaleName(of weight: String) -> String { weight + "_scale_inv" }

    /// The F16 per-group scales of a `q8`/`q4`/`q4a` weight, `[rows, ceil(columns / 32)]`.
    public static func groupScaleName(of weight: String) -> String { weight + "_scales" }

    /// The F16 per-group offsets of a `q4a` weight, shaped like its scales.
    public static func groupOffsetName(of weight: String) -> String { weight + "_offsets" }

    /// Every tensor that may accompany a weight in a quantized checkpoint.
    public static func companions(of weight: String) -> [String] {
        [scaleName(of: weight), groupScaleName(of: weight), groupOffsetName(of: weight)]
    }

    /// The layer index of a `model.layers.N.…` name, if it is one.
    public static func layerIndex(of name: String) -> Int? {
        let prefix = "model.layers."
        guard name.hasPrefix(prefix) else { return nil }
        return Int(name.dropFirst(prefix.count).prefix { $0.isNumber })
    }
}
