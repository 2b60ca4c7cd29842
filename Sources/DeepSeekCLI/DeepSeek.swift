import ArgumentParser

/// The `deepseek` command: one entry point for every task.
@main
struct DeepSeek: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "deepseek",
        abstract: "Run DeepSeek-V2/V3-family models on the CPU.",
        subcommands: [Generate.self, Chat.self, Tokenize.self, Detokenize.self, Template.self, Logits.self, Info.self, Init.self, Quantize.self, PerplexityCommand.self, Bench.self])
}
