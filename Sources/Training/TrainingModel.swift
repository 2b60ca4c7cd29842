import Kernels
import Model

/// A DeepSeek-V2/V3-family model over FP32 master weights in a `ParameterSet`: the forward pass over whole
/// packed sequences and its backward pass, through every layer, the multi-token-prediction modules and
/// the losses.
///
/// The layers mirror the inference model's (`Model.Transformer`) in the expanded attention form, with the
/// activations each backward step needs kept from the forward pass; the routing rule, rotary angles,
/// parameter layout and names are the inference model's own.
public struct TrainingModel: Sendable {
    public let config: ModelConfig
    let embedding: Int
    let blocks: [TrainingBlock]
    let output: OutputHead
    let mtp: [TrainingMTP]
    let rope: RotaryEmbedding

    /// Every parameter a model of `config` trains: the main model's, then (with `multiTokenPrediction`) the
    /// MTP modules' that `num_nextn_predict_layers` asks for.
    public static func parameterSpecs(_ config: ModelConfig, multiTokenPrediction: Bool = true) -> [ParameterSpec] {
        ParameterLayout.parameters(config) + (multiTokenPrediction ? ParameterLayout.multiTokenPrediction(config) : [])
    }

    /// Binds the layers to `parameters`, which must hold the main model's layout; the MTP modules run when
    /// it holds theirs too.
    ///
    /// - Parameter precision: the format of the products' activations (pass weights rounded by
    ///   `Precision.computeWeights` to match).
    public init(config c: ModelConfig, parameters p: ParameterSet, precision: Precision = .fp32) {
        config = c
        embedding = p.slot(ParameterLayout.embedding(c).name)
        blocks = (0..<c.numHiddenLayers).map { TrainingBlock(config: c, layer: $0, in: p, precision: precision) }
        let head = TrainingLinear(ParameterLayout.head(c) ?? ParameterLayout.embedding(c), in: p, precision: precision)
        output = OutputHead(norm: TrainingNorm(ParameterLayout.finalNorm(c), epsilon: c.rmsNormEps, in: p), head: head)
        let hasMTP = c.numNextnPredictLayers > 0 && p.contains(TensorNames.mtp(ParameterLayout.mtpLayer(c, depth: 1), .ehProj))
        mtp = hasMTP ? (1...c.numNextnPredictLayers).map { TrainingMTP(config: c, depth: $0, head: head, in: p, precision: precision) } : []
        rope = RotaryEmbedding(config: c)
    }

    /// The loss of `batch` without gradients.
    public func evaluate(_ batch: TrainingBatch, parameters: ParameterSet, options: LossOptions = LossOptions()) -> LossReport {
        evaluate(batch, parameters: parameters, options: options, routes: nil)
    }

    /// The loss of `batch` with every MoE layer's experts given (in the order `routes` returns them).
    func evaluate(_ batch: TrainingBatch, parameters: ParameterSet, options: LossOptions, routes: [[[Int]]]?) -> LossReport {
        var unused = ParameterSet(specs: [], values: [])
        return run(batch, parameters, options: options, gradientScale: nil, routes: routes, &unused)
    }

    /// The loss of `batch`, adding `scale ·` the gradient of its objective (`LossReport.objective`) to `gradients`.
    ///
    /// - Parameter recompute: keep only each block's input from the forward pass and run the block forward
    ///   again just before its backward pass (activation checkpointing): the same gradients, bit for bit, for
    ///   about a third more compute and a fraction of the activation memory.
    public func lossAndGradients(_ batch: TrainingBatch, parameters: ParameterSet, options: LossOptions = LossOptions(),
                                 scale: Float = 1, recompute: Bool = false, gradients: inout ParameterSet) -> LossReport {
        run(batch, parameters, options: options, gradientScale: scale, recompute: recompute, &gradients)
    }

    /// Logits `[rows, vocab]` of every position of `batch` (the main head only).
    public func logits(_ batch: TrainingBatch, parameters p: ParameterSet) -> [Float] {
        let angles = rope.angles(positions: 0..<batch.shape.length)
        var h = embed(batch.inputs, p)
        for block in blocks { h = block.forward(h, batch: batch.shape, angles: angles, options: LossOptions(balanceCoefficient: 0), p).output }
        return output.logits(h, rows: batch.shape.rows, p)
    }

    /// The experts every MoE layer (the MTP modules' too) chose for every position, for checks that a
    /// perturbation left the routing alone.
    func routes(_ batch: TrainingBatch, parameters p: ParameterSet) -> [[[Int]]] {
        let angles = rope.angles(positions: 0..<batch.shape.length)
        let options = LossOptions(balanceCoefficient: 0)
        var h = embed(batch.inputs, p)
        var routes: [[[Int]]] = []
        for block in blocks {
            let (next, saved, _) = block.forward(h, batch: batch.shape, angles: angles, options: options, p)
            if let moe = saved.moe { routes.append(moe.chosen) }
            h = next
        }
        for module in mtp {
            let (out, saved, _) = module.forward(previous: h, embedded: embed(module.shifted(batch).tokens, p), batch: batch.shape,
                                                 angles: angles, options: options, p)
            if let moe = saved.block.moe { routes.append(moe.chosen) }
            h = out
        }
        return routes
    }

    /// Embedding rows of `tokens`, `[tokens.count, hidden]`.
    func embed(_ tokens: [Int], _ p: ParameterSet) -> [Float] {
        let hidden = config.hiddenSize, table = p.values[embedding]
        var h = [Float](repeating: 0, count: tokens.count * hidden)
        for (r, token) in tokens.enumerated() {
            h[(r * hidden)..<((r + 1) * hidden)] = table[(token * hidden)..<((token + 1) * hidden)]
        }
        return h
    }

    /// Adds each row of `gradient` to its token's embedding gradient.
    func embedBackward(_ tokens: [Int], gradient: [Float], _ g: inout ParameterSet) {
        guard !g.values[embedding].isEmpty else { return }
        let hidden = config.hiddenSize
        g.values[embedding].withUnsafeMutableBufferPointer { table in
            for (r, token) in tokens.enumerated() {
                for d in 0..<hidden { table[token * hidden + d] += gradient[r * hidden + d] }
            }
        }
    }

    func run(_ batch: TrainingBatch, _ p: ParameterSet, options: LossOptions, gradientScale scale: Float?, recompute: Bool = false,
             routes: [[[Int]]]? = nil, _ g: inout ParameterSet) -> LossReport {
        let shape = batch.shape
        let angles = rope.angles(positions: 0..<shape.length)
        var report = LossReport(loss: 0, mtpLosses: [], balanceLoss: 0, targets: batch.targetCount, expertLoad: [:])
        var routeIndex = 0
        func fixedRoutes(_ isMoE: Bool) -> [[Int]]? {
            guard isMoE, let routes else { return nil }
            routeIndex += 1
            return routes[routeIndex - 1]
        }
        func record(_ statistics: TrainingMoE.Statistics?, layer: Int) {
            guard let statistics else { return }
            report.expertLoad[layer] = statistics.load
            report.balanceLoss += statistics.balanceLoss
        }

        var h = embed(batch.inputs, p)
        var inputs: [[Float]] = [], saved: [TrainingBlock.Saved?] = [], blockRoutes: [[[Int]]?] = []
        var blockBytes: [Int] = []
        for (l, block) in blocks.enumerated() {
            inputs.append(h)
            blockRoutes.append(fixedRoutes(block.isMoE))
            let (next, s, statistics) = block.forward(h, batch: shape, angles: angles, options: options, routes: blockRoutes[l], p)
            saved.append(recompute ? nil : s)
            blockBytes.append(s.byteCount)
            record(statistics, layer: l)
            h = next
        }
        let (lossSum, dHead) = output.loss(h, targets: batch.targets, gradientScale: scale.map { $0 / Float(max(report.targets, 1)) }, p, &g)
        report.loss = lossSum / Double(max(report.targets, 1))

        // Multi-token prediction: every depth forward (each loss's gradient taken as it goes), then back.
        var mtpState: [(tokens: [Int], previous: [Float], saved: TrainingMTP.Saved?, dLoss: [Float], routes: [[Int]]?)] = []
        var previous = h
        // What each depth keeps either way: its input and its loss's gradient.
        var keptBytes = 0
        for module in mtp {
            let (tokens, targets) = module.shifted(batch)
            let routes = fixedRoutes(module.block.isMoE)
            let (out, s, statistics) = module.forward(previous: previous, embedded: embed(tokens, p), batch: shape, angles: angles,
                                                      options: options, routes: routes, p)
            record(statistics, layer: ParameterLayout.mtpLayer(config, depth: module.depth))
            let count = targets.reduce(0) { $0 + ($1 >= 0 ? 1 : 0) }
            let weight = options.mtpWeight / Float(mtp.count) / Float(max(count, 1))
            let (sum, dLoss) = module.output.loss(out, targets: targets, gradientScale: scale.map { $0 * weight }, p, &g)
            report.mtpLosses.append(sum / Double(max(count, 1)))
            mtpState.append((tokens, previous, recompute ? nil : s, dLoss, routes))
            keptBytes += 4 * (previous.count + dLoss.count)
            blockBytes.append(s.byteCount)
            previous = out
        }
        let inputBytes = 4 * inputs.reduce(0) { $0 + $1.count } + keptBytes
        report.activationBytes = inputBytes + blockBytes.reduce(0, +)
        report.activationBytesRecomputing = inputBytes + (blockBytes.max() ?? 0)
        guard let scale else { return report }

        let balanceGradient = options.balanceCoefficient * scale
        var dNext: [Float]? = nil
        for (module, state) in zip(mtp, mtpState).reversed() {
            var dOutput = state.dLoss
            if let dNext { add(&dOutput, dNext) }
            let saved = state.saved ?? module.forward(previous: state.previous, embedded: embed(state.tokens, p), batch: shape, angles: angles,
                                                      options: options, routes: state.routes, p).saved
            let (dPrevious, dEmbedded) = module.backward(dOutput, previous: state.previous, saved: saved, batch: shape,
                                                         angles: angles, balanceGradient: balanceGradient, p, &g)
            embedBackward(state.tokens, gradient: dEmbedded, &g)
            dNext = dPrevious
        }
        var dh = dHead
        if let dNext { add(&dh, dNext) }
        for l in blocks.indices.reversed() {
            let s = saved[l] ?? blocks[l].forward(inputs[l], batch: shape, angles: angles, options: options, routes: blockRoutes[l], p).saved
            saved[l] = nil
            dh = blocks[l].backward(dh, input: inputs[l], saved: s, batch: shape, angles: angles, balanceGradient: balanceGradient, p, &g)
        }
        embedBackward(batch.inputs, gradient: dh, &g)
        return report
    }
}
