import Kernels
import Model

/// One multi-token-prediction module (DeepSeek-V3 §2.2): from the previous depth's hidden state at position
/// `i` and the embedding of the token at `i + k`, it predicts the token at `i + k + 1` through its own block,
/// sharing the main model's embedding and output head.
struct TrainingMTP: Sendable {
    let depth: Int
    let enorm: TrainingNorm
    let hnorm: TrainingNorm
    /// `eh_proj` over `[enorm(embedding), hnorm(hidden)]`.
    let ehProj: TrainingLinear
    let block: TrainingBlock
    let output: OutputHead

    init(config c: ModelConfig, depth: Int, head: TrainingLinear, in p: ParameterSet, precision: Precision) {
        self.depth = depth
        enorm = TrainingNorm(ParameterLayout.mtp(c, depth: depth, .enorm), epsilon: c.rmsNormEps, in: p)
        hnorm = TrainingNorm(ParameterLayout.mtp(c, depth: depth, .hnorm), epsilon: c.rmsNormEps, in: p)
        ehProj = TrainingLinear(ParameterLayout.mtp(c, depth: depth, .ehProj), in: p, precision: precision)
        block = TrainingBlock(config: c, layer: ParameterLayout.mtpLayer(c, depth: depth), in: p, precision: precision)
        output = OutputHead(norm: TrainingNorm(ParameterLayout.mtp(c, depth: depth, .sharedHeadNorm), epsilon: c.rmsNormEps, in: p), head: head)
    }

    /// This depth's input tokens and targets: position `i` sees the token at `i + depth` and predicts the one
    /// after it; positions whose target lies past the sequence get none (and token 0 as input).
    func shifted(_ batch: TrainingBatch) -> (tokens: [Int], targets: [Int]) {
        let length = batch.shape.length
        var tokens = [Int](repeating: 0, count: batch.shape.rows), targets = [Int](repeating: -1, count: batch.shape.rows)
        for s in 0..<batch.shape.sequences {
            for i in 0..<(length - min(depth, length)) {
                tokens[s * length + i] = batch.inputs[s * length + i + depth]
                targets[s * length + i] = batch.targets[s * length + i + depth]
            }
        }
        return (tokens, targets)
    }

    struct Saved {
        let embedded: [Float]
        let combined: [Float]
        let blockInput: [Float]
        let block: TrainingBlock.Saved
        let output: [Float]

        var byteCount: Int { 4 * (embedded.count + combined.count + blockInput.count + output.count) + block.byteCount }
    }

    /// - Parameters:
    ///   - previous: the previous depth's hidden states `[rows, hidden]` (the main model's before its final norm).
    ///   - embedded: the embeddings of `shifted(batch).tokens`.
    func forward(previous: [Float], embedded: [Float], batch: BatchShape, angles: RotaryAngles, options: LossOptions,
                 routes: [[Int]]? = nil, _ p: ParameterSet)
        -> (output: [Float], saved: Saved, moe: TrainingMoE.Statistics?) {
        let rows = batch.rows, hidden = enorm.size
        let e = enorm.forward(embedded, rows: rows, p), h = hnorm.forward(previous, rows: rows, p)
        var combined = [Float](repeating: 0, count: rows * 2 * hidden)
        for r in 0..<rows {
            combined[(r * 2 * hidden)..<(r * 2 * hidden + hidden)] = e[(r * hidden)..<((r + 1) * hidden)]
            combined[(r * 2 * hidden + hidden)..<((r + 1) * 2 * hidden)] = h[(r * hidden)..<((r + 1) * hidden)]
        }
        let blockInput = ehProj.forward(combined, tokens: rows, p)
        let (output, saved, statistics) = block.forward(blockInput, batch: batch, angles: angles, options: options, routes: routes, p)
        return (output, Saved(embedded: embedded, combined: combined, blockInput: blockInput, block: saved, output: output), statistics)
    }

    /// - Parameter dOutput: gradient of this depth's output (its loss's and the next depth's).
    /// - Returns: the gradients of `previous` and of `embedded`.
    func backward(_ dOutput: [Float], previous: [Float], saved s: Saved, batch: BatchShape, angles: RotaryAngles,
                  balanceGradient: Float, _ p: ParameterSet, _ g: inout ParameterSet) -> (previous: [Float], embedded: [Float]) {
        let rows = batch.rows, hidden = enorm.size
        let dBlockInput = block.backward(dOutput, input: s.blockInput, saved: s.block, batch: batch, angles: angles,
                                         balanceGradient: balanceGradient, p, &g)
        let dCombined = ehProj.backward(dBlockInput, input: s.combined, tokens: rows, p, &g)
        var de = [Float](repeating: 0, count: rows * hidden), dh = de
        for r in 0..<rows {
            de[(r * hidden)..<((r + 1) * hidden)] = dCombined[(r * 2 * hidden)..<(r * 2 * hidden + hidden)]
            dh[(r * hidden)..<((r + 1) * hidden)] = dCombined[(r * 2 * hidden + hidden)..<((r + 1) * 2 * hidden)]
        }
        return (hnorm.backward(dh, input: previous, rows: rows, p, &g), enorm.backward(de, input: s.embedded, rows: rows, p, &g))
    }
}
