/// `rope_scaling` (or `rope_parameters`) of config.json: how rotary frequencies are stretched
/// beyond the pre-training context.
public struct RopeScaling: Sendable, Equatable {
    public enum Kind: String, Sendable { case yarn, linear }

    public var kind: Kind
    public var factor: Double
    public var originalMaxPositionEmbeddings: Int
    public var betaFast: Double
    public var betaSlow: Double
    public var mscale: Double?
    public var mscaleAllDim: Double?
    /// Explicit multiplier of cos/sin; inferred from `mscale`/`mscaleAllDim` when absent.
    public var attentionFactor: Double?
    /// Round the YaRN correction range outward to whole dimensions (Hugging Face default true).
    public var truncate: Bool

    public init(kind: Kind, factor: Double, originalMaxPositionEmbeddings: Int, betaFast: Double = 32, betaSlow: Double = 1,
                mscale: Double? = nil, mscaleAllDim: Double? = nil, attentionFactor: Double? = nil, truncate: Bool = true) {
        self.kind = kind
        self.factor = factor
        self.originalMaxPositionEmbeddings = originalMaxPositionEmbeddings
        self.betaFast = betaFast
        self.betaSlow = betaSlow
        self.mscale = mscale
        self.mscaleAllDim = mscaleAllDim
        self.attentionFactor = attentionFactor
        self.truncate = truncate
    }
}

/// `quantization_config` of an FP8 block-scaled checkpoint (the official DeepSeek-V3 release).
public struct QuantizationConfig: Sendable, Equatable {
    public var blockRows: Int
    public var blockColumns: Int
}
