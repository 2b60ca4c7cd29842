import ArgumentParser
import Model
import Training

/// The optimisation options shared by `deepseek train` and `deepseek finetune`; maps onto `TrainingOptions`.
struct TrainingOptionGroup: ParsableArguments {
    @Option(help: "Optimizer steps.") var steps: Int = 100
    @Option(help: "Positions per training sequence.") var sequenceLength: Int = 128
    @Option(help: "Sequences per micro-batch.") var batchSequences: Int = 8
    @Option(help: "Tokens per micro-batch (instead of --batch-sequences; a multiple of --sequence-length).") var batchTokens: Int?
    @Option(help: "Micro-batches whose gradients are accumulated into each step.") var accumulation: Int = 1
    @Option(name: .customLong("lr"), help: "Peak learning rate.") var learningRate: Float = 1e-3
    @Option(name: .customLong("min-lr"), help: "Learning rate at the end of the cosine decay (default: --lr / 10).") var minimumLearningRate: Float?
    @Option(name: .customLong("warmup"), help: "Linear warm-up steps.") var warmupSteps: Int = 10
    @Option(name: .customLong("clip"), help: "Largest global gradient norm (0: no clipping).") var clipNorm: Float = 1
    @Option(help: "AdamW weight decay (not applied to norms and biases).") var weightDecay: Float = 0.1
    @Option(help: "AdamW β₁.") var beta1: Float = 0.9
    @Option(help: "AdamW β₂.") var beta2: Float = 0.95
    @Option(help: "Coefficient α of the sequence-wise expert balance loss (0: off).") var balanceLoss: Float = 1e-4
    @Option(help: "Weight λ of the multi-token-prediction loss.") var mtpWeight: Float = 0.3
    @Option(help: "Step γ of the auxiliary-loss-free routing bias update (0: off).") var biasUpdateRate: Float = 1e-3
    @Option(help: "Seed of the data order (and of a new model's weights).") var seed: UInt64 = 0
    @Flag(help: "Activation checkpointing: recompute each layer's activations in the backward pass instead of keeping them.") var recompute = false
    @Option(help: "Format of the matrix products: fp32, bf16 or fp16 (with dynamic loss scaling); master weights stay FP32.") var precision: String = "fp32"

    func options() throws -> TrainingOptions {
        guard let precision = Precision(rawValue: precision) else {
            throw ValidationError("--precision must be fp32, bf16 or fp16, got '\(self.precision)'")
        }
        var sequences = batchSequences
        if let batchTokens {
            guard batchTokens > 0, batchTokens % sequenceLength == 0 else {
                throw ValidationError("--batch-tokens must be a positive multiple of --sequence-length (\(sequenceLength)), got \(batchTokens)")
            }
            sequences = batchTokens / sequenceLength
        }
        let options = TrainingOptions(
            steps: steps, sequenceLength: sequenceLength, batchSequences: sequences, accumulation: accumulation,
            learningRate: learningRate, minimumLearningRate: minimumLearningRate, warmupSteps: warmupSteps, clipNorm: clipNorm,
            adamW: AdamW.Options(beta1: beta1, beta2: beta2, weightDecay: weightDecay),
            loss: LossOptions(balanceCoefficient: balanceLoss, mtpWeight: mtpWeight),
            expertBalance: ExpertBalance(rate: biasUpdateRate), seed: seed, recompute: recompute, precision: precision)
        try options.validate()
        return options
    }
}

/// Where a run writes and how often: maps onto `TrainingRun.Schedule`.
struct TrainingOutputOptions: ParsableArguments {
    @Option(help: "Output folder: checkpoints, metrics.csv, loss.svg, and the final model.") var out: String
    @Option(help: "Fraction of the data held out for evaluation.") var heldOut: Double = 0.05
    @Option(help: "Steps between held-out evaluations (0: only at the end).") var evalEvery: Int = 50
    @Option(help: "Held-out windows per evaluation.") var evalWindows: Int = 64
    @Option(help: "Steps between checkpoints (0: only at the end).") var saveEvery: Int = 100
    @Option(help: "Checkpoints kept.") var keep: Int = 2
    @Option(help: "Final model weight format: f32, bf16 or f16 (checkpoints are always f32).") var saveDtype: String = "f32"
    @Flag(help: "Continue from the newest checkpoint in --out.") var resume = false

    func schedule() throws -> TrainingRun.Schedule {
        guard let format = StorageFormat(rawValue: saveDtype), [.f32, .bf16, .f16].contains(format) else {
            throw ValidationError("--save-dtype must be f32, bf16 or f16, got '\(saveDtype)'")
        }
        guard evalEvery >= 0, saveEvery >= 0, keep >= 1, evalWindows >= 1 else {
            throw ValidationError("--eval-every and --save-every must be ≥ 0, --keep and --eval-windows ≥ 1")
        }
        return TrainingRun.Schedule(evaluateEvery: evalEvery, evaluationWindows: evalWindows, saveEvery: saveEvery, keep: keep, saveFormat: format)
    }
}
