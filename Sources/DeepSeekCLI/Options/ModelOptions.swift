import ArgumentParser
import Engine
import Model
import Tokenizer

/// `--model DIR`: a Hugging Face checkpoint folder; without it, the bundled model.
struct ModelOptions: ParsableArguments {
    @Option(name: .long, help: "Checkpoint folder (config.json, *.safetensors, tokenizer.json); default: the bundled \(BundledModel.relativePath).")
    var model: String?

    /// The folder to load: `--model`, or the bundled model's.
    func folder() throws -> String { try model ?? BundledModel.folder() }

    func loadTokenizer() throws -> Tokenizer { try Tokenizer(directory: folder()) }
    func loadModel(_ loading: LoadOptions) throws -> Transformer { try loading.load(folder()) }
    /// The model and tokenizer under an engine; by default one for a single conversation, its cache one context long.
    func loadEngine(_ loading: LoadOptions, contextLength: Int? = nil, options: EngineOptions? = nil) throws -> Engine {
        let transformer = try loadModel(loading)
        let context = min(contextLength ?? transformer.config.maxPositionEmbeddings, transformer.config.maxPositionEmbeddings)
        let options = options ?? EngineOptions(contextLength: context, cachePositions: context, maxRunning: 1)
        return try Engine(model: transformer, tokenizer: try loadTokenizer(), options: options)
    }
}
