import Kernels
import Model

/// One transformer block for training: pre-norm MLA and a pre-norm feed-forward (dense or MoE), each added
/// back to the residual stream, with the backward pass.
struct TrainingBlock: Sendable {
    enum FeedForward: Sendable {
        case dense(TrainingMLP)
        case moe(TrainingMoE)
    }

    let inputNorm: TrainingNorm
    let attention: TrainingAttention
    let postAttentionNorm: TrainingNorm
    let feedForward: FeedForward

    init(config c: ModelConfig, layer l: Int, in p: ParameterSet, precision: Precision) {
        inputNorm = TrainingNorm(ParameterLayout.inputNorm(c, l), epsilon: c.rmsNormEps, in: p)
        attention = TrainingAttention(config: c, layer: l, in: p, precision: precision)
        postAttentionNorm = TrainingNorm(ParameterLayout.postAttentionNorm(c, l), epsilon: c.rmsNormEps, in: p)
        feedForward = c.isMoELayer(l)
            ? .moe(TrainingMoE(config: c, layer: l, in: p, precision: precision))
            : .dense(TrainingMLP(in: p, precision: precision) { ParameterLayout.denseMLP(c, l, $0) })
    }

    var isMoE: Bool {
        if case .moe = feedForward { return true }
        return false
    }

    /// What the backward pass needs of a forward pass (the block's input is kept by the caller).
    struct Saved {
        let attentionInput: [Float]
        let attention: TrainingAttention.Saved
        /// The residual stream after attention.
        let middle: [Float]
        let feedForwardInput: [Float]
        let dense: TrainingMLP.Saved?
        let moe: TrainingMoE.Saved?

        var byteCount: Int {
            4 * (attentionInput.count + middle.count + feedForwardInput.count) + attention.byteCount
                + (dense?.byteCount ?? 0) + (moe?.byteCount ?? 0)
        }
    }

    /// Runs the block on the residual stream `h` `[rows, hidden]`.
    func forward(_ h: [Float], batch: BatchShape, angles: RotaryAngles, options: LossOptions, routes: [[Int]]? = nil, _ p: ParameterSet)
        -> (output: [Float], saved: Saved, moe: TrainingMoE.Statistics?) {
        let rows = batch.rows
        let x = inputNorm.forward(h, rows: rows, p)
        let (attended, attentionSaved) = attention.forward(x, batch: batch, angles: angles, p)
        var middle = h
        add(&middle, attended)
        let y = postAttentionNorm.forward(middle, rows: rows, p)
        var output = middle
        switch feedForward {
        case let .dense(mlp):
            let (z, saved) = mlp.forward(y, tokens: rows, p)
            add(&output, z)
            return (output, Saved(attentionInput: x, attention: attentionSaved, middle: middle, feedForwardInput: y, dense: saved, moe: nil), nil)
        case let .moe(moe):
            let (z, saved, statistics) = moe.forward(y, batch: batch, balanceCoefficient: options.balanceCoefficient, routes: routes, p)
            add(&output, z)
            return (output, Saved(attentionInput: x, attention: attentionSaved, middle: middle, feedForwardInput: y, dense: nil, moe: saved), statistics)
        }
    }

    /// - Parameters:
    ///   - dy: gradient of the block's output.
    ///   - h: the block's input.
    /// - Returns: the gradient of `h`.
    func backward(_ dy: [Float], input h: [Float], saved s: Saved, batch: BatchShape, angles: RotaryAngles,
                  balanceGradient: Float, _ p: ParameterSet, _ g: inout ParameterSet) -> [Float] {
        let rows = batch.rows
        let dY: [Float]
        switch feedForward {
        case let .dense(mlp): dY = mlp.backward(dy, input: s.feedForwardInput, saved: s.dense!, tokens: rows, p, &g)
        case let .moe(moe): dY = moe.backward(dy, input: s.feedForwardInput, saved: s.moe!, batch: batch, balanceGradient: balanceGradient, p, &g)
        }
        var dMiddle = dy
        add(&dMiddle, postAttentionNorm.backward(dY, input: s.middle, rows: rows, p, &g))
        let dX = attention.backward(dMiddle, input: s.attentionInput, saved: s.attention, batch: batch, angles: angles, p, &g)
        var dh = dMiddle
        add(&dh, inputNorm.backward(dX, input: h, rows: rows, p, &g))
        return dh
    }
}
