import ArgumentParser
import Foundation
import Tokenizer
import Training

/// `deepseek tokenizer`: tokenizer tools.
struct TokenizerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokenizer", abstract: "Tokenizer tools.", subcommands: [TrainTokenizer.self])
}

/// `deepseek tokenizer train`: a byte-level BPE tokenizer in DeepSeek-V3's configuration, from text.
struct TrainTokenizer: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a byte-level BPE tokenizer (DeepSeek-V3's pre-tokenizer, special tokens and chat template).")

    @Option(parsing: .upToNextOption, help: "Text files, or .jsonl with a \"text\" field per line.") var data: [String]
    @Option(help: "Vocabulary size, special and added tokens included.") var vocabSize: Int
    @Option(help: "Pairs seen fewer times than this are not merged.") var minFrequency = 2
    @Option(help: "Folder to write tokenizer.json and tokenizer_config.json into.") var out: String

    func run() throws {
        guard !data.isEmpty else { throw ValidationError("--data: give at least one file") }
        var trainer = try TokenizerTrainer(vocabularySize: vocabSize, minimumFrequency: minFrequency)
        let start = Date()
        var bytes = 0
        for path in data {
            for text in try TrainingCorpus.texts(path) {
                trainer.add(text: text)
                bytes += text.utf8.count
            }
        }
        let counted = Date()
        let trained = trainer.train()
        try trained.write(to: out)
        let note = trained.tokens.count < vocabSize ? " (no pair left seen \(minFrequency) times)" : ""
        Output.print(String(format: "%d tokens, %d merges%@ from %d words (%d distinct, %.1f MB) in %.1f s + %.1f s; wrote %@",
                            trained.tokens.count, trained.merges.count, note, trainer.words.values.reduce(0, +),
                            trainer.words.count, Double(bytes) / 1e6, counted.timeIntervalSince(start),
                            Date().timeIntervalSince(counted), out))
    }
}
