import Tensors

/// Sizes of a checkpoint computed from its config and safetensors headers alone (no weights read).
public struct ModelSummary: Sendable {
    public let config: ModelConfig
    /// Parameters of the main model (embeddings, layers, norm, head); FP8 scale grids excluded.
    public let totalParameters: Int
    /// Parameters used for one token: everything but the routed experts a token does not select.
    public let activeParameters: Int
    /// Parameters of the multi-token-prediction layers, which are recognised but not loaded.
    public let mtpParameters: Int
    /// Tensor count and bytes by dtype, over the whole checkpoint.
    public let dtypes: [DType: (tensors: Int, bytes: Int)]
    /// Bytes of all tensor data in the checkpoint files.
    public let checkpointBytes: Int

    public init(config: ModelConfig, checkpoint: Checkpoint) {
        self.config = config
        var total = 0, routed = 0, mtp = 0
        var dtypes: [DType: (tensors: Int, bytes: Int)] = [:]
        for name in checkpoint.names {
            guard let entry = checkpoint.entry(name) else { continue }
            dtypes[entry.dtype, default: (0, 0)].tensors += 1
            dtypes[entry.dtype, default: (0, 0)].bytes += entry.dataRange.count
            if name.hasSuffix("_scale_inv") { continue }
            let count = entry.shape.reduce(1, *)
            if let layer = TensorNames.layerIndex(of: name), layer >= config.numHiddenLayers {
                mtp += count
            } else {
                total += count
                if name.contains(".mlp.experts.") { routed += count }
            }
        }
        let experts = config.nRoutedExperts ?? 1
        totalParameters = total
        activeParameters = total - routed + routed / experts * config.numExpertsPerTok
        mtpParameters = mtp
        self.dtypes = dtypes
        checkpointBytes = checkpoint.dataBytes
    }

    /// Bytes of latent KV cache per token (F32 values, every layer).
    public var cacheBytesPerToken: Int { config.latentCacheWidth * config.numHiddenLayers * 4 }

    public var denseLayers: Int { (0..<config.numHiddenLayers).filter { !config.isMoELayer($0) }.count }
    public var moeLayers: Int { config.numHiddenLayers - denseLayers }
}
