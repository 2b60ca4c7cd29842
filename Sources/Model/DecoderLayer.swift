import Kernels

/// One transformer block: pre-norm MLA attention and a pre-norm feed-forward (dense or MoE),
/// each added back to the residual stream.
public struct DecoderLayer: Sendable {
    enum FeedForward: Sendable {
        case dense(DenseMLP)
        case moe(MoE)
    }

    let index: Int
    let inputNorm: RMSNorm
    let attention: MLAttention
    let postAttentionNorm: RMSNorm
    let feedForward: FeedForward

    init(config c: ModelConfig, layer l: Int, loader: WeightLoader) throws {
        index = l
        inputNorm = try loader.rmsNorm(ParameterLayout.inputNorm(c, l))
        attention = try MLAttention(config: c, layer: l, loader: loader)
        postAttentionNorm = try loader.rmsNorm(ParameterLayout.postAttentionNorm(c, l))
        feedForward = c.isMoELayer(l)
            ? .moe(try MoE(config: c, layer: l, loader: loader))
            : .dense(try DenseMLP(loader: loader) { ParameterLayout.denseMLP(c, l, $0) })
    }

    /// Updates the residual stream `h` `[layout.rows, hidden]` in place.
    func callAsFunction(_ h: inout [Float], layout: BatchLayout, cache: inout LatentCache, angles: RotaryAngles, form: MLAttention.Form) {
        let tokens = layout.rows
        var x = h
        inputNorm(&x, rows: tokens)
        add(&h, attention(x, layout: layout, layer: index, cache: &cache, angles: angles, form: form))
        x = h
        postAttentionNorm(&x, rows: tokens)
        switch feedForward {
        case let .dense(mlp): add(&h, mlp(x, tokens: tokens, path: layout.path))
        case let .moe(moe): add(&h, moe(x, tokens: tokens, path: layout.path))
        }
    }
}
