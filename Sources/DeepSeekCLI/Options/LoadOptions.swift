import ArgumentParser
import Model
import Tensors
import Training

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

    @Option(help: "A LoRA adapter folder (adapter_config.json, adapter_model.safetensors) to fold into the weights at load.")
    var lora: String?

    /// The model in `directory`, loaded as these options say.
    func load(_ directory: String) throws -> Transformer {
        let config = try ModelConfig.load(directory: directory)
        var checkpoint = try Checkpoint(directory: directory, residency: mmap ? .mapped : .automatic)
        if let lora { checkpoint = try Self.merging(lora, into: checkpoint, config: config) }
        return try Transformer(config: config, checkpoint: checkpoint, prefillChunk: prefillChunk)
    }

    /// `checkpoint` with each weight the adapter in `folder` targets replaced by its merged F32 form.
    static func merging(_ folder: String, into checkpoint: Checkpoint, config: ModelConfig) throws -> Checkpoint {
        let adapter = try LoRAAdapterFile(directory: folder)
        let targeted = adapter.config.adapters(of: ParameterLayout.parameters(config)).map(\.weight)
        var weights = try ParameterSet(specs: targeted, reader: ParameterReader(checkpoint: checkpoint, config: config))
        try adapter.merge(into: &weights, path: folder)
        return Checkpoint(checkpoint, replacing: zip(weights.specs, weights.values).map { Tensor(name: $0.name, shape: $0.shape, floats: $1) })
    }

    func validate() throws {
        guard prefillChunk >= 1 else { throw ValidationError("--prefill-chunk must be ≥ 1, got \(prefillChunk)") }
    }
}
