import Foundation
import JSON
import Model
import Tensors

/// Resumable checkpoints of a training run: `<out>/checkpoint-<step>/` holds the model as a Hugging Face
/// folder in F32 (the master weights, exactly), the optimizer's moments (`optimizer.safetensors`) and
/// `trainer_state.json` (step, data cursor and the options that fix the data order). A LoRA run changes
/// only its adapters, so its checkpoints hold them alone, as a PEFT folder, with the base model's path in
/// the state; resuming reads the base model again from there.
///
/// A checkpoint is written into a hidden folder beside its final name and renamed into place only when
/// every file is complete, so a run killed at any moment leaves either the whole checkpoint or none of it.
public enum TrainingCheckpoint {
    static let prefix = "checkpoint-"
    static let stateFile = "trainer_state.json"
    static let optimizerFile = "optimizer.safetensors"

    /// Saves `trainer` as `<out>/checkpoint-<step>`, keeping the newest `keep` checkpoints; returns its path.
    @discardableResult
    public static func save(_ trainer: Trainer, configJSON: Data, tokenizer: String?, in out: String, keep: Int = 2,
                            baseModel: String? = nil) throws -> String {
        let fileManager = FileManager.default
        try fileManager.createDirectory(atPath: out, withIntermediateDirectories: true)
        let base = URL(fileURLWithPath: out)
        let name = prefix + String(format: "%06d", trainer.step)
        // What a killed run left half-written is never read; clear it away.
        for leftover in (try? fileManager.contentsOfDirectory(atPath: out)) ?? [] where leftover.hasPrefix(".\(prefix)") {
            try? fileManager.removeItem(at: base.appendingPathComponent(leftover))
        }
        let partial = base.appendingPathComponent(".\(name).partial-\(getpid())")
        if trainer.parameters.lora != nil {
            try LoRAAdapterFile.write(trainer.parameters, baseModel: baseModel ?? "", to: partial.path)
        } else {
            try ModelExport.write(trainer.parameters, config: trainer.config, configJSON: configJSON, format: .f32, tokenizer: tokenizer, to: partial.path)
        }
        var entries: [SafetensorsWriter.Entry] = [], moments: [[Float]] = []
        for (slot, spec) in trainer.parameters.specs.enumerated() where !trainer.optimizer.firstMoment.values[slot].isEmpty {
            entries += [.init(name: "m." + spec.name, dtype: .f32, shape: spec.shape), .init(name: "v." + spec.name, dtype: .f32, shape: spec.shape)]
            moments += [trainer.optimizer.firstMoment.values[slot], trainer.optimizer.secondMoment.values[slot]]
        }
        try SafetensorsWriter.write(entries: entries, to: partial.appendingPathComponent(optimizerFile).path) { i in
            try TensorEncoding.bytes(moments[i], as: .f32)
        }
        let o = trainer.options
        let state = JSONValue.object(JSONObject([
            ("step", .int(trainer.step)), ("cursor", .int(trainer.cursor)), ("optimizer_step", .int(trainer.optimizer.step)),
            ("seed", .string(String(o.seed))), ("sequence_length", .int(o.sequenceLength)), ("batch_sequences", .int(o.batchSequences)),
            ("accumulation", .int(o.accumulation)), ("loss_scale", .double(Double(trainer.scaler.scale))),
            ("loss_scale_good_steps", .int(trainer.scaler.goodSteps)),
        ] + (trainer.parameters.lora == nil ? [] : [("base_model", .string(baseModel.map(Self.standardized) ?? ""))])))
        try Data(state.serialized(pythonSeparators: true, indent: 2).utf8).write(to: partial.appendingPathComponent(stateFile), options: .atomic)

        let target = base.appendingPathComponent(name)
        let stale = base.appendingPathComponent(".\(name).stale-\(getpid())")
        if fileManager.fileExists(atPath: target.path) { try fileManager.moveItem(at: target, to: stale) }
        guard rename(partial.path, target.path) == 0 else {
            throw TrainingError.checkpointFailed(path: target.path, detail: String(cString: strerror(errno)))
        }
        try? fileManager.removeItem(at: stale)
        for old in checkpoints(in: out).dropLast(max(keep, 1)) { try? fileManager.removeItem(atPath: old) }
        return target.path
    }

    /// Complete checkpoints in `out`, oldest first.
    public static func checkpoints(in out: String) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: out)) ?? []
        return names.filter { $0.hasPrefix(prefix) && Int($0.dropFirst(prefix.count)) != nil }.sorted()
            .map { URL(fileURLWithPath: out).appendingPathComponent($0).path }
    }

    /// The newest complete checkpoint in `out`, if any.
    public static func latest(in out: String) -> String? { checkpoints(in: out).last }

    /// Puts `trainer` back in the state saved at `checkpoint`. A LoRA run's `trainer` holds the base model it
    /// was started from (`baseModel`), which must be the one the checkpoint names.
    public static func restore(_ trainer: Trainer, from checkpoint: String, baseModel: String? = nil) throws {
        let base = URL(fileURLWithPath: checkpoint)
        guard let data = FileManager.default.contents(atPath: base.appendingPathComponent(stateFile).path),
              let state = try? JSONValue.parse(data), let step = state["step"]?.intValue, let cursor = state["cursor"]?.intValue,
              let optimizerStep = state["optimizer_step"]?.intValue else {
            throw TrainingError.checkpointFailed(path: checkpoint, detail: "\(stateFile) is missing or unreadable")
        }
        let o = trainer.options
        let saved: [(String, String?, String)] = [
            ("--seed", state["seed"]?.stringValue, String(o.seed)),
            ("--sequence-length", state["sequence_length"]?.intValue.map(String.init), String(o.sequenceLength)),
            ("--batch-sequences", state["batch_sequences"]?.intValue.map(String.init), String(o.batchSequences)),
            ("--accumulation", state["accumulation"]?.intValue.map(String.init), String(o.accumulation)),
        ]
        for (option, was, now) in saved where was != now {
            throw TrainingError.invalidOption(name: option, detail: "the checkpoint was trained with \(was ?? "none"), this run asks for \(now); resume with the same value")
        }
        let parameters = try restoredParameters(trainer, from: checkpoint, state: state, baseModel: baseModel)
        let moments = try SafetensorsFile(path: base.appendingPathComponent(optimizerFile).path)
        var optimizer = trainer.optimizer
        for (slot, spec) in parameters.specs.enumerated() where !optimizer.firstMoment.values[slot].isEmpty {
            optimizer.firstMoment.values[slot] = try moments.tensor("m." + spec.name).floats()
            optimizer.secondMoment.values[slot] = try moments.tensor("v." + spec.name).floats()
        }
        optimizer.step = optimizerStep
        trainer.parameters = parameters
        trainer.optimizer = optimizer
        trainer.step = step
        trainer.cursor = cursor
        if let scale = state["loss_scale"]?.doubleValue, let good = state["loss_scale_good_steps"]?.intValue {
            trainer.scaler.scale = Float(scale)
            trainer.scaler.goodSteps = good
        }
    }

    /// The parameters saved at `checkpoint`: the whole model, or a LoRA run's adapters over its base model.
    private static func restoredParameters(_ trainer: Trainer, from checkpoint: String, state: JSONValue, baseModel: String?) throws -> ParameterSet {
        let adapterConfig = URL(fileURLWithPath: checkpoint).appendingPathComponent(LoRAAdapterFile.configFile).path
        guard let lora = trainer.parameters.lora, FileManager.default.fileExists(atPath: adapterConfig) else {
            let reader = try ParameterReader(directory: checkpoint, config: trainer.config)
            var parameters = try ParameterSet(specs: trainer.parameters.specs, reader: reader)
            parameters.lora = trainer.parameters.lora
            return parameters
        }
        let savedBase = state["base_model"]?.stringValue ?? ""
        if let baseModel, standardized(baseModel) != savedBase {
            throw TrainingError.invalidOption(name: "--model", detail: "the checkpoint's adapters were trained on \(savedBase), this run loads \(standardized(baseModel)); resume with the same model")
        }
        let adapter = try LoRAAdapterFile(directory: checkpoint)
        guard adapter.config == lora else {
            throw TrainingError.invalidOption(name: "--lora-rank, --lora-alpha, --lora-dropout or --lora-targets",
                                              detail: "the checkpoint's adapters are r \(adapter.config.rank), α \(adapter.config.alpha), dropout \(adapter.config.dropout), targets \(adapter.config.targets.joined(separator: ",")); resume with the same values")
        }
        var parameters = trainer.parameters
        let base = parameters.specs.filter { !ParameterSet.isAdapter($0) }
        for (spec, values) in try adapter.adapterValues(for: base, path: checkpoint) { parameters.values[parameters.slot(spec.name)] = values }
        return parameters
    }

    /// `path` absolute and without `.` or `..`, as the base model is compared.
    static func standardized(_ path: String) -> String { URL(fileURLWithPath: path).standardizedFileURL.path }
}
