import ArgumentParser
import Foundation

/// The `deepseek` command: one entry point for every task.
@main
struct DeepSeek: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "deepseek",
        abstract: "Run DeepSeek-V2/V3-family models on the CPU.",
        subcommands: [Generate.self, Chat.self, Tokenize.self, Detokenize.self, Template.self, Logits.self, Info.self, Init.self,
                      Quantize.self, PerplexityCommand.self, Bench.self, Serve.self, BenchServe.self, Train.self, Finetune.self, MergeLoRA.self, TokenizerCommand.self])

    /// Parses and runs the command. Every error is one line on stderr with a non-zero exit; help and
    /// usage text appear only when asked for (`--help`).
    static func main() async {
        var command: ParsableCommand
        do {
            command = try parseAsRoot()
        } catch {
            exitWithOneLine(error)
        }
        do {
            if var command = command as? AsyncParsableCommand {
                try await command.run()
            } else {
                try command.run()
            }
        } catch {
            exitWithOneLine(error)
        }
    }

    private static func exitWithOneLine(_ error: Error) -> Never {
        // A command that has reported its failure itself ends with its exit code alone.
        if let exit = error as? ExitCode { Foundation.exit(exit.rawValue) }
        let code = exitCode(for: error)
        // --help, --version and clean exits keep the library's output.
        if code == .success { exit(withError: error) }
        let message = message(for: error).split(separator: "\n").first.map(String.init) ?? "\(error)"
        FileHandle.standardError.write(Data("Error: \(message)\n".utf8))
        Foundation.exit(code.rawValue)
    }
}
