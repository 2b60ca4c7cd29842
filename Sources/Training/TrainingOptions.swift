/// Everything a training run is told besides the model and the data (one CLI option group maps onto it).
public struct TrainingOptions: Sendable, Equatable {
    /// Optimizer steps to take.
    public var steps: Int
    /// Positions per training sequence.
    public var sequenceLength: Int
    /// Sequences per forward/backward pass (a micro-batch).
    public var batchSequences: Int
    /// Micro-batches whose gradients are summed (and averaged) before each step.
    public var accumulation: Int
    public var learningRate: Float
    public var minimumLearningRate: Float?
    public var warmupSteps: Int
    /// Largest global gradient norm; larger gradients are scaled down to it (0: no clipping).
    public var clipNorm: Float
    public var adamW: AdamW.Options
    public var loss: LossOptions
    public var expertBalance: ExpertBalance
    /// Seeds the data order (and the initial weights of a new model).
    public var seed: UInt64
    /// Activation checkpointing: recompute each block's activations in the backward pass instead of keeping them.
    public var recompute: Bool
    /// The format of the matrix products (FP32 master weights in every case).
    public var precision: Precision

    public init(steps: Int = 100, sequenceLength: Int = 128, batchSequences: Int = 8, accumulation: Int = 1,
                learningRate: Float = 1e-3, minimumLearningRate: Float? = nil, warmupSteps: Int = 10, clipNorm: Float = 1,
                adamW: AdamW.Options = AdamW.Options(), loss: LossOptions = LossOptions(),
                expertBalance: ExpertBalance = ExpertBalance(), seed: UInt64 = 0, recompute: Bool = false,
                precision: Precision = .fp32) {
        self.steps = steps
        self.sequenceLength = sequenceLength
        self.batchSequences = batchSequences
        self.accumulation = accumulation
        self.learningRate = learningRate
        self.minimumLearningRate = minimumLearningRate
        self.warmupSteps = warmupSteps
        self.clipNorm = clipNorm
        self.adamW = adamW
        self.loss = loss
        self.expertBalance = expertBalance
        self.seed = seed
        self.recompute = recompute
        self.precision = precision
    }

    /// Tokens predicted per optimizer step.
    public var tokensPerStep: Int { sequenceLength * batchSequences * accumulation }

    public var schedule: LearningRateSchedule {
        LearningRateSchedule(peak: learningRate, minimum: minimumLearningRate, warmupSteps: warmupSteps, totalSteps: steps)
    }

    /// Rejects values a run cannot use, naming the command-line option.
    public func validate() throws {
        func require(_ ok: Bool, _ name: String, _ detail: String) throws {
            if !ok { throw TrainingError.invalidOption(name: name, detail: detail) }
        }
        try require(steps > 0, "--steps", "must be positive, got \(steps)")
        try require(sequenceLength > 0, "--sequence-length", "must be positive, got \(sequenceLength)")
        try require(batchSequences > 0, "--batch-sequences", "must be positive, got \(batchSequences)")
        try require(accumulation > 0, "--accumulation", "must be positive, got \(accumulation)")
        try require(learningRate > 0 && learningRate.isFinite, "--lr", "must be a positive number, got \(learningRate)")
        try require((minimumLearningRate ?? 0) >= 0 && (minimumLearningRate ?? 0) <= learningRate, "--min-lr", "must be between 0 and --lr")
        try require(warmupSteps >= 0, "--warmup", "must not be negative, got \(warmupSteps)")
        try require(clipNorm >= 0 && clipNorm.isFinite, "--clip", "must not be negative, got \(clipNorm)")
        try require(adamW.weightDecay >= 0, "--weight-decay", "must not be negative, got \(adamW.weightDecay)")
        try require((0..<1).contains(adamW.beta1) && (0..<1).contains(adamW.beta2), "--beta1/--beta2", "must be in [0, 1)")
        try require(loss.balanceCoefficient >= 0, "--balance-loss", "must not be negative, got \(loss.balanceCoefficient)")
        try require(loss.mtpWeight >= 0, "--mtp-weight", "must not be negative, got \(loss.mtpWeight)")
        try require(expertBalance.rate >= 0, "--bias-update-rate", "must not be negative, got \(expertBalance.rate)")
    }
}
