import ArgumentParser
import Engine
import Model
import Tokenizer

/// `--model DIR`: a Hugging Face checkpoint folder.
struct ModelOptions: ParsableArguments {
    @Option(name: .long, help: "Checkpoint folder (config.json, *.safetensors, tokenizer.json).")
    var model: String

    func loadTokenizer() throws -> Tokenizer { try Tokenizer(directory: model) }
    func loadModel(_ loading: LoadOptions) throws -> Transformer { try loading.load(model) }
    func loadGenerator(_ loading: LoadOptions, contextLength: Int? = nil) throws -> Generator {
        Generator(model: try loadModel(loading), tokenizer: try loadTokenizer(), contextLength: contextLength)
    }
}
