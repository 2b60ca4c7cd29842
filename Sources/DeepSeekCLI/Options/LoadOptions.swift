import ArgumentParser
import Model
import Tensors

/// How a command that runs the model loads it: `--prefill-chunk N`, how many prompt positions one pass
/// through the layers takes (llama.cpp's `--ubatch-size`), and `--mmap`, whether the weights stay in the
/// memory-mapped files.
struct LoadOptions: ParsableArguments {
    @Option(name: .customLong("prefill-chunk"),
            help: "Most prompt tokens per pass through the layers; longer prompts run in chunks, which bounds memory.")
    var prefillChunk: Int = Transformer.defaultPrefillChunk

    @Flag(help: ArgumentHelp(
        "Leave the weights in the memory-mapped checkpoint files instead of copying them into memory.",
        discussion: """
            By default a checkpoint that fits in three quarters of physical memory is copied into this process's \
            memory at load, on 2 MiB pages where Linux allows, which makes decoding faster. With --mmap the model \
            opens at once, shares the page cache with other processes, and may be evicted by the OS; checkpoints \
            too large to copy are always mapped.
            """))
    var mmap = false

    /// The model in `directory`, loaded as these options say.
    func load(_ directory: String) throws -> Transformer {
        try Transformer(directory: directory, prefillChunk: prefillChunk, residency: mmap ? .mapped : .automatic)
    }

    func validate() throws {
        guard prefillChunk >= 1 else { throw ValidationError("--prefill-chunk must be ≥ 1, got \(prefillChunk)") }
    }
}
