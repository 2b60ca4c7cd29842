import ArgumentParser
import Foundation
import JSON
import Kernels
import Model
import Tokenizer
import Training

/// `deepseek train`: pretrains a DeepSeek-V3-architecture model from text.
struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Train a model of a config from text or JSONL files.")

    @Option(help: "The model's config.json.") var config: String
    @Option(parsing: .upToNextOption, help: "Training files: plain text (one document each) or .jsonl with a \"text\" field per line.")
    var data: [String]
    @Option(help: "Folder with the tokenizer (tokenizer.json); default: the config's folder.") var tokenizer: String?
    @OptionGroup var training: TrainingOptionGroup
    @OptionGroup var output: TrainingOutputOptions
    @OptionGroup var runtime: RuntimeOptions

    func run() throws {
        runtime.apply()
        let options = try training.options()
        let schedule = try output.schedule()
        let (configJSON, modelConfig) = try ConfigFile.read(config)
        let tokenizerFolder = tokenizer ?? URL(fileURLWithPath: config).deletingLastPathComponent().path
        let tokenizer = try Tokenizer(directory: tokenizerFolder)
        guard tokenizer.vocabularySize <= modelConfig.vocabSize else {
            throw ValidationError("the tokenizer has \(tokenizer.vocabularySize) tokens, the config's vocab_size is \(modelConfig.vocabSize)")
        }
        let documents = try TrainingCorpus.documents(files: data, tokenizer: tokenizer)
        let dataset = try TokenDataset(documents: documents, length: options.sequenceLength, heldOutFraction: output.heldOut)
        let parameters = ParameterSet(specs: TrainingModel.parameterSpecs(modelConfig), std: Self.initializerRange(configJSON), seed: options.seed)
        let trainer = try Trainer(config: modelConfig, parameters: parameters, data: dataset, options: options)
        let run = TrainingRun(trainer: trainer, out: output.out, configJSON: configJSON, tokenizer: tokenizerFolder, schedule: schedule)
        try TrainingProgress.start(run, resume: output.resume, parameters: parameters.elementCount, dataset: dataset)
    }

    /// `initializer_range` of the config (transformers' default 0.02).
    static func initializerRange(_ json: Data) -> Float {
        (try? JSONValue.parse(json))?["initializer_range"]?.doubleValue.map(Float.init) ?? 0.02
    }
}
