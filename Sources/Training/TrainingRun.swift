import Foundation
import Model

/// Drives a `Trainer` to its last step: evaluates on the held-out split, saves resumable checkpoints and the
/// metrics log as it goes, and writes the final model into the output folder itself.
public struct TrainingRun {
    public struct Schedule: Sendable {
        /// Steps between held-out evaluations (0: only at the end).
        public var evaluateEvery: Int
        /// Held-out windows per evaluation.
        public var evaluationWindows: Int
        /// Steps between checkpoints (0: only at the end).
        public var saveEvery: Int
        /// Checkpoints kept.
        public var keep: Int
        /// The final model's weight format (checkpoints are always F32).
        public var saveFormat: StorageFormat

        public init(evaluateEvery: Int = 50, evaluationWindows: Int = 64, saveEvery: Int = 100, keep: Int = 2, saveFormat: StorageFormat = .f32) {
            self.evaluateEvery = evaluateEvery
            self.evaluationWindows = evaluationWindows
            self.saveEvery = saveEvery
            self.keep = keep
            self.saveFormat = saveFormat
        }
    }

    public let trainer: Trainer
    public let out: String
    public let configJSON: Data
    public let tokenizer: String?
    public let schedule: Schedule
    /// The model a fine-tuning run started from, named in its adapter's config.
    public let baseModel: String?

    /// A run writing into `out`; at its end, a model folder there, or an adapter folder when the parameters have adapters.
    public init(trainer: Trainer, out: String, configJSON: Data, tokenizer: String?, schedule: Schedule, baseModel: String? = nil) {
        self.baseModel = baseModel
        self.trainer = trainer
        self.out = out
        self.configJSON = configJSON
        self.tokenizer = tokenizer
        self.schedule = schedule
    }

    /// Continues from the newest checkpoint in `out`; returns its path, or nil when there is none.
    public func resume() throws -> String? {
        guard let latest = TrainingCheckpoint.latest(in: out) else { return nil }
        try TrainingCheckpoint.restore(trainer, from: latest, baseModel: baseModel)
        return latest
    }

    /// Trains to `trainer.options.steps`, calling `progress` after every step (with the held-out loss when
    /// one was measured); returns the final held-out loss.
    @discardableResult
    public func run(progress: (Trainer.StepReport, Double?) -> Void) throws -> Double? {
        var log = MetricsLog(directory: out, keepingThrough: trainer.step)
        var lastHeldOut: Double?
        let total = trainer.options.steps
        while trainer.step < total {
            let report = trainer.trainStep()
            let last = trainer.step == total
            var heldOut: Double?
            if last || (schedule.evaluateEvery > 0 && trainer.step % schedule.evaluateEvery == 0) {
                heldOut = trainer.heldOutLoss(windows: schedule.evaluationWindows)
                lastHeldOut = heldOut ?? lastHeldOut
            }
            log.record(report, heldOutLoss: heldOut)
            progress(report, heldOut)
            if last || (schedule.saveEvery > 0 && trainer.step % schedule.saveEvery == 0) {
                try TrainingCheckpoint.save(trainer, configJSON: configJSON, tokenizer: tokenizer, in: out, keep: schedule.keep, baseModel: baseModel)
                try log.write()
            }
        }
        if trainer.parameters.lora != nil {
            try LoRAAdapterFile.write(trainer.parameters, baseModel: baseModel ?? "", to: out)
        } else {
            try ModelExport.write(trainer.parameters, config: trainer.config, configJSON: configJSON, format: schedule.saveFormat,
                                  tokenizer: tokenizer, to: out)
        }
        try log.write()
        return lastHeldOut
    }
}
