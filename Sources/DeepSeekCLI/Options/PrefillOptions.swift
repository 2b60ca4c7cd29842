import ArgumentParser
import Model

/// `--prefill-chunk N`: how many prompt positions one pass through the layers takes (llama.cpp's
/// `--ubatch-size`); commands that run the model take it.
struct PrefillOptions: ParsableArguments {
    @Option(name: .customLong("prefill-chunk"),
            help: "Most prompt tokens per pass through the layers; longer prompts run in chunks, which bounds memory.")
    var prefillChunk: Int = Transformer.defaultPrefillChunk

    func validate() throws {
        guard prefillChunk >= 1 else { throw ValidationError("--prefill-chunk must be ≥ 1, got \(prefillChunk)") }
    }
}
