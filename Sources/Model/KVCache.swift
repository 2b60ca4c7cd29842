/// The attention cache of one sequence: for every layer and every past position, the
/// compressed MLA latent — `kv_lora_rank` normalised values of `c_KV` followed by the
/// `qk_rope_head_dim` rotated values of the shared key `k_rope`. Never the expanded per-head K/V.
public struct KVCache: Sendable {
    /// Values per position per layer (`kv_lora_rank + qk_rope_head_dim`).
    public let width: Int
    /// Positions the cache may hold.
    public let capacity: Int
    /// `[layer][position × width]`.
    var layers: [[Float]]
    /// Positions filled so far.
    public private(set) var count: Int = 0

    public init(config: ModelConfig, capacity: Int? = nil) {
        width = config.latentCacheWidth
        self.capacity = capacity ?? config.maxPositionEmbeddings
        layers = Array(repeating: [], count: config.numHiddenLayers)
    }

    /// Bytes the cache holds now (F32 values).
    public var bytes: Int { layers.reduce(0) { $0 + $1.count * 4 } }

    /// Appends `tokens` latent rows `[tokens, width]` for `layer`.
    mutating func append(layer: Int, latents: [Float]) {
        layers[layer].append(contentsOf: latents)
    }

    /// Marks `tokens` positions as filled once every layer has appended them.
    mutating func advance(by tokens: Int) {
        count += tokens
        precondition(layers.allSatisfy { $0.count == count * width }, "KV cache layers out of step at \(count) positions")
    }

    /// Drops every position at and after `position` (for re-running a suffix).
    public mutating func truncate(to position: Int) {
        precondition(position >= 0 && position <= count, "cannot truncate a cache of \(count) to \(position)")
        for l in layers.indices { layers[l].removeLast(layers[l].count - position * width) }
        count = position
    }
}
