import ArgumentParser
import Engine
import Model
import Tokenizer

/// `--model DIR`: a Hugging Face checkpoint folder.
struct ModelOptions: ParsableArguments {
    @Option(name: .long, help: "Checkpoint folder (config.json, *.safetensors, tokenizer.json).")
    var model: String

    func loadTokenizer() throws -> Tokenizer { try Tokenizer(directory: model) }
    func loadModel(_ prefill: PrefillOptions) throws -> Transformer {
        try Transformer(directory: model, prefillChunk: prefill.prefillChunk)
    }
    func loadGenerator(_ prefill: PrefillOptions, contextLength: Int? = nil) throws -> Generator {
        Generator(model: try loadModel(prefill), tokenizer: try loadTokenizer(), contextLength: contextLength)
    }
}
