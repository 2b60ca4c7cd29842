import ArgumentParser
import Foundation
import Model
import Tokenizer
import Training

/// `deepseek finetune`: LoRA (or, with `--full`, every weight) on chat conversations, loss on the replies.
struct Finetune: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Fine-tune a model on chat JSONL ({\"messages\": [...]} per line) with LoRA adapters, or every weight with --full.")

    @OptionGroup var model: ModelOptions
    @Option(parsing: .upToNextOption, help: "Chat JSONL files: one {\"messages\": [{\"role\", \"content\"}, ...]} per line.")
    var data: [String]
    @Option(help: "LoRA rank r.") var loraRank = 16
    @Option(help: "LoRA α (the adapter's output is scaled by α / r).") var loraAlpha: Float = 32
    @Option(help: "Dropout on the adapters' input while training.") var loraDropout: Float = 0.1
    @Option(help: "Comma-separated modules to adapt: \(LoRAConfig.moduleNames.joined(separator: ", ")), or experts (every routed expert's projections).")
    var loraTargets = LoRAConfig.defaultTargets.joined(separator: ",")
    @Flag(help: "Fine-tune every weight instead of training adapters; writes a whole model.") var full = false
    @OptionGroup var training: TrainingOptionGroup
    @OptionGroup var output: TrainingOutputOptions
    @OptionGroup var runtime: RuntimeOptions

    func run() throws {
        runtime.apply()
        let options = try training.options()
        let schedule = try output.schedule()
        let folder = try model.folder()
        let (configJSON, config) = try ConfigFile.read(folder: folder)
        let tokenizer = try Tokenizer(directory: folder)
        let conversations = try ChatCorpus.conversations(files: data, tokenizer: tokenizer)
        let dataset = try TokenDataset(documents: conversations.map(\.tokens), predicted: conversations.map(\.predicted),
                                       length: options.sequenceLength, heldOutFraction: output.heldOut)
        let reader = try ParameterReader(directory: folder, config: config)
        let withMTP = reader.contains(ParameterLayout.mtp(config, depth: 1, .ehProj).name)
        let base = try ParameterSet(specs: TrainingModel.parameterSpecs(config, multiTokenPrediction: withMTP), reader: reader)
        let parameters: ParameterSet
        let frozen: (ParameterSpec) -> Bool
        if full {
            (parameters, frozen) = (base, { _ in false })
        } else {
            let targets = loraTargets.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            let lora = try LoRAConfig(rank: loraRank, alpha: loraAlpha, dropout: loraDropout, targets: targets)
            parameters = try base.addingAdapters(lora, seed: options.seed)
            // Everything but the adapters, the routing biases included: the base model's routing stays as trained.
            frozen = { !ParameterSet.isAdapter($0) }
        }
        let trainer = try Trainer(config: config, parameters: parameters, data: dataset, options: options, frozen: frozen)
        let run = TrainingRun(trainer: trainer, out: output.out, configJSON: configJSON, tokenizer: folder, schedule: schedule, baseModel: folder)
        let trainable = zip(parameters.specs, parameters.values).reduce(0) { $0 + (frozen($1.0) ? 0 : $1.1.count) }
        try TrainingProgress.start(run, resume: output.resume, parameters: trainable, dataset: dataset)
    }
}

/// `deepseek merge-lora`: folds a LoRA adapter into a model's weights and writes the merged model.
struct MergeLoRA: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "merge-lora", abstract: "Fold a LoRA adapter into a model and write the merged model.")

    @OptionGroup var model: ModelOptions
    @Option(help: "Adapter folder (adapter_config.json, adapter_model.safetensors).") var lora: String
    @Option(help: "Folder for the merged model.") var out: String
    @Option(help: "Weight format of the merged model: f32, bf16 or f16.") var dtype = "bf16"

    func run() throws {
        let folder = try model.folder()
        guard let format = StorageFormat(rawValue: dtype), [.f32, .bf16, .f16].contains(format) else {
            throw ValidationError("--dtype must be f32, bf16 or f16, got '\(dtype)'")
        }
        let (configJSON, config) = try ConfigFile.read(folder: folder)
        let adapter = try LoRAAdapterFile(directory: lora)
        let reader = try ParameterReader(directory: folder, config: config)
        let withMTP = reader.contains(ParameterLayout.mtp(config, depth: 1, .ehProj).name)
        var parameters = try ParameterSet(specs: TrainingModel.parameterSpecs(config, multiTokenPrediction: withMTP), reader: reader)
        try adapter.merge(into: &parameters, path: lora)
        try ModelExport.write(parameters, config: config, configJSON: configJSON, format: format, tokenizer: folder, to: out)
        Output.print("merged \(adapter.tensors.count / 2) adapters (r \(adapter.config.rank), α \(adapter.config.alpha)) into \(out)")
    }
}
