import ArgumentParser
import Foundation
import Model

/// `deepseek quantize`: a checkpoint rewritten in smaller weight formats.
struct Quantize: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write a checkpoint with its weight matrices in q8, q4, q4a, fp8 or bf16.",
        discussion: """
        --format sets the linear layers; the embedding, head and router stay bf16 unless --mixed sets them. \
        --mixed takes CLASS=FORMAT pairs for the classes embedding, head, attention, experts, shared, dense and router, \
        for example --format q4 --mixed attention=q8,shared=q8 (the README documents the stored layout).
        """)

    @Option(help: "Checkpoint folder to read.") var model: String
    @Option(help: "Folder to write (created; must not be --model).") var out: String
    @Option(help: "Format of the linear layers: q8, q4, q4a, fp8 or bf16.") var format: String
    @Option(help: "Per-class formats, e.g. experts=q4,attention=q8,shared=q8,embedding=bf16,head=bf16.") var mixed: String?
    @Option(help: "Largest shard in bytes before the checkpoint is split (default 5 GiB).") var shardBytes: Int = 5 << 30
    @OptionGroup var runtime: RuntimeOptions

    static let formats: [StorageFormat] = [.q8, .q4, .q4a, .fp8, .bf16]

    func validate() throws {
        guard let chosen = StorageFormat(rawValue: format), Self.formats.contains(chosen) else {
            throw ValidationError("--format must be one of \(Self.formats.map(\.rawValue).joined(separator: ", ")), got '\(format)'")
        }
        if shardBytes < 1 { throw ValidationError("--shard-bytes must be positive, got \(shardBytes)") }
    }

    func run() throws {
        runtime.apply()
        let recipe = try QuantizationRecipe(format: StorageFormat(rawValue: format)!, mixed: mixed)
        let start = Date()
        let report = try CheckpointQuantizer.quantize(from: model, to: out, recipe: recipe, shardBytes: shardBytes)
        Output.status(String(format: "wrote %@ (%@): %d matrices quantized, %d tensors copied, %.1f MB → %.1f MB in %.1f s",
                             out, recipe.summary, report.matrices, report.copiedTensors,
                             Double(report.inputBytes) / 1e6, Double(report.outputBytes) / 1e6, Date().timeIntervalSince(start)))
    }
}
