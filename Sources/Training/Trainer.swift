import Foundation
import Model

/// A training run: the model, its parameters and optimizer state, the data and where in it the run is.
///
/// Each `step()` sums the gradients of `accumulation` micro-batches (each scaled by 1/accumulation), clips
/// their global norm, takes one AdamW step at the schedule's rate and moves the routing biases toward
/// balance. Everything that decides the next step — parameters, moments, step and data cursor — is state a
/// checkpoint saves, so a resumed run continues exactly.
public final class Trainer {
    public let config: ModelConfig
    public let options: TrainingOptions
    public let data: TokenDataset
    let model: TrainingModel
    public internal(set) var parameters: ParameterSet
    public internal(set) var optimizer: AdamW
    /// Optimizer steps taken.
    public internal(set) var step: Int
    /// Training windows consumed.
    public internal(set) var cursor: Int
    /// FP16's dynamic loss scale (unused at other precisions).
    public internal(set) var scaler = LossScaler()
    /// Slots that receive no gradient (the routing biases; the base weights when fine-tuning adapters).
    let frozen: (ParameterSpec) -> Bool
    /// Whether `options.expertBalance` moves the routing biases after each step: not when the caller froze
    /// them (a LoRA run keeps its base model's routing).
    let balancesRouting: Bool

    public init(config: ModelConfig, parameters: ParameterSet, data: TokenDataset, options: TrainingOptions,
                frozen: @escaping (ParameterSpec) -> Bool = { _ in false }) throws {
        try options.validate()
        guard data.length == options.sequenceLength else {
            throw TrainingError.invalidOption(name: "--sequence-length", detail: "the data was windowed at \(data.length), the options say \(options.sequenceLength)")
        }
        self.config = config
        self.options = options
        self.data = data
        self.parameters = parameters
        self.frozen = { $0.role == .routerBias || frozen($0) }
        balancesRouting = !parameters.specs.contains { $0.role == .routerBias && frozen($0) }
        model = TrainingModel(config: config, parameters: parameters, precision: options.precision)
        optimizer = AdamW(options: options.adamW, like: parameters.zeros(frozen: self.frozen))
        step = 0
        cursor = 0
    }

    /// What one optimizer step did.
    public struct StepReport: Sendable {
        public let step: Int
        /// Mean next-token loss over the step's micro-batches.
        public let loss: Double
        public let mtpLoss: Double?
        public let balanceLoss: Double
        public let learningRate: Float
        /// The global gradient norm before clipping.
        public let gradientNorm: Float
        public let tokens: Int
        public let seconds: Double
        /// Per MoE layer, the busiest expert's load over the mean load in this step.
        public let imbalance: [Int: Float]
        /// Peak bytes of block activations a micro-batch's backward pass needs kept, without and with recomputation.
        public let activationBytes: Int
        public let activationBytesRecomputing: Int
        /// Whether the update was skipped because FP16 gradients overflowed (the loss scale was halved).
        public let skipped: Bool
        /// The FP16 loss scale the step used (1 at other precisions).
        public let lossScale: Float
    }

    /// Takes one optimizer step.
    public func trainStep() -> StepReport {
        let start = Date()
        var gradients = parameters.zeros(frozen: frozen)
        var loss = 0.0, mtp = 0.0, balance = 0.0, tokens = 0
        var load: [Int: [Int]] = [:]
        var memory = (0, 0)
        let lossScale: Float = options.precision == .fp16 ? scaler.scale : 1
        let scale = lossScale / Float(options.accumulation)
        let compute = options.precision.computeWeights(parameters, config: config)
        for _ in 0..<options.accumulation {
            let batch = data.batch(cursor: cursor, sequences: options.batchSequences, seed: options.seed)
            // Adapter dropout masks follow from the seed and the micro-batch, so a resumed run draws the same ones.
            let dropoutSeed = (options.seed &* 0xD1B5_4A32_D192_ED03) ^ UInt64(cursor)
            cursor += options.batchSequences
            let report = LoRAAdapter.$dropoutSeed.withValue(dropoutSeed) {
                model.lossAndGradients(batch, parameters: compute, options: options.loss, scale: scale,
                                       recompute: options.recompute, gradients: &gradients)
            }
            memory = (max(memory.0, report.activationBytes), max(memory.1, report.activationBytesRecomputing))
            loss += report.loss / Double(options.accumulation)
            mtp += (report.mtpLosses.isEmpty ? 0 : report.mtpLosses.reduce(0, +) / Double(report.mtpLosses.count)) / Double(options.accumulation)
            balance += report.balanceLoss / Double(options.accumulation)
            tokens += report.targets
            for (layer, counts) in report.expertLoad { load[layer] = zip(load[layer] ?? counts.map { _ in 0 }, counts).map(+) }
        }
        let rate = options.schedule.rate(at: step)
        var norm = Float.nan, skipped = false
        if options.precision == .fp16 {
            skipped = !scaler.update(finite: gradients.isFinite)
            if !skipped { gradients.scale(by: 1 / lossScale) }
        }
        if !skipped {
            norm = clipGradients(&gradients, maxNorm: options.clipNorm)
            optimizer.update(&parameters, gradients: gradients, learningRate: rate)
            if balancesRouting { options.expertBalance.update(&parameters, config: config, load: load) }
        }
        step += 1
        return StepReport(step: step, loss: loss, mtpLoss: model.mtp.isEmpty ? nil : mtp, balanceLoss: balance, learningRate: rate,
                          gradientNorm: norm, tokens: tokens, seconds: Date().timeIntervalSince(start),
                          imbalance: ExpertBalance.imbalance(load), activationBytes: memory.0, activationBytesRecomputing: memory.1,
                          skipped: skipped, lossScale: lossScale)
    }

    /// Mean next-token loss over at most `windows` held-out windows (nil when there is no held-out data).
    public func heldOutLoss(windows: Int = 64) -> Double? {
        let batches = data.heldOutBatches(sequences: options.batchSequences, limit: windows)
        guard !batches.isEmpty else { return nil }
        var sum = 0.0, count = 0
        for batch in batches {
            let report = model.evaluate(batch, parameters: parameters, options: options.loss)
            sum += report.loss * Double(report.targets)
            count += report.targets
        }
        return sum / Double(max(count, 1))
    }
}
