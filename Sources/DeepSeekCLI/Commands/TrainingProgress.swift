import Foundation
import Training

/// The live progress of a training run on stderr: one line per step (overwritten in place on a terminal)
/// with the step, loss, learning rate, throughput and time left, and a line per held-out evaluation.
enum TrainingProgress {
    static func start(_ run: TrainingRun, resume: Bool, parameters: Int, dataset: TokenDataset) throws {
        let trainer = run.trainer, options = trainer.options
        if resume {
            guard let checkpoint = try run.resume() else { throw TrainingError.checkpointFailed(path: run.out, detail: "--resume: no checkpoint to resume from") }
            Output.status("resumed from \(checkpoint) at step \(trainer.step)")
        }
        Output.status("training \(parameters) parameters on \(dataset.train.count) tokens (\(dataset.heldOut.count) held out), "
            + "\(options.tokensPerStep) tokens per step, \(options.steps) steps")
        let terminal = isatty(STDERR_FILENO) == 1
        let start = Date(), firstStep = trainer.step
        let final = try run.run { report, heldOut in
            let done = report.step - firstStep, elapsed = Date().timeIntervalSince(start)
            if done == 1 {
                let mib = { (bytes: Int) in String(format: "%.1f MiB", Double(bytes) / 1_048_576) }
                let saved = mib(report.activationBytes - report.activationBytesRecomputing)
                Output.status(options.recompute
                    ? "activations kept per micro-batch: \(mib(report.activationBytesRecomputing)) with --recompute (\(mib(report.activationBytes)) without; \(saved) saved)"
                    : "activations kept per micro-batch: \(mib(report.activationBytes)) (--recompute would keep \(mib(report.activationBytesRecomputing)), saving \(saved))")
            }
            let eta = elapsed / Double(max(done, 1)) * Double(options.steps - report.step)
            var line = String(format: "step %d/%d  loss %.4f", report.step, options.steps, report.loss)
            if let mtp = report.mtpLoss { line += String(format: "  mtp %.4f", mtp) }
            line += String(format: "  lr %.2e  |g| %.3f  %.0f tok/s  ETA %@", report.learningRate, report.gradientNorm,
                           Double(report.tokens) / max(report.seconds, 1e-9), duration(eta))
            if report.skipped { line += String(format: "  (fp16 overflow: step skipped, loss scale now %.0f)", trainer.scaler.scale) }
            if let heldOut {
                FileHandle.standardError.write(Data(((terminal ? "\r\u{1B}[K" : "") + line + String(format: "  held-out %.4f (ppl %.2f)\n", heldOut, exp(heldOut))).utf8))
            } else {
                FileHandle.standardError.write(Data((terminal ? "\r\u{1B}[K" + line : line + "\n").utf8))
            }
        }
        if let final { Output.status(String(format: "held-out loss %.4f, perplexity %.2f", final, exp(final))) }
        Output.status("wrote \(run.out)")
    }

    static func duration(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        return s >= 3600 ? String(format: "%dh%02dm", s / 3600, s % 3600 / 60) : String(format: "%dm%02ds", s / 60, s % 60)
    }
}
