import Foundation
import Testing

/// `deepseek tokenizer train` as a user runs it: the folder it writes is a tokenizer the other commands load.
struct TokenizerCommandTests {
    @Test func trainsATokenizerThatTokenizeLoads() throws {
        let out = CLI.temporaryPath("tokenizer")
        defer { try? FileManager.default.removeItem(atPath: out) }
        let corpus = CLI.fixtures.appendingPathComponent("tokenizer-trained/corpus.txt").path
        let trained = try CLI.run(["tokenizer", "train", "--data", corpus, "--vocab-size", "700", "--out", out])
        #expect(trained.status == 0, "\(trained.stderr)")
        #expect(trained.stdout.contains("700 tokens, 428 merges"))
        let expected = try String(contentsOf: CLI.fixtures.appendingPathComponent("tokenizer-trained/tokenizer.json"), encoding: .utf8)
        #expect(try String(contentsOfFile: out + "/tokenizer.json", encoding: .utf8) == expected)
        let ids = try CLI.run(["tokenize", "--model", out, "--text", "In the beginning"])
        #expect(ids.status == 0 && ids.stdout.hasPrefix("0,"), "\(ids.stderr)")
    }

    @Test func badInputIsAOneLineError() throws {
        let corpus = CLI.fixtures.appendingPathComponent("tokenizer-trained/corpus.txt").path
        for (arguments, word) in [(["--data", corpus, "--vocab-size", "100"], "minimum 272"),
                                  (["--data", "/no/such/file", "--vocab-size", "500"], "/no/such/file"),
                                  (["--data", corpus, "--vocab-size", "500", "--min-frequency", "0"], "minimum frequency")] {
            let result = try CLI.run(["tokenizer", "train"] + arguments + ["--out", CLI.temporaryPath("tokenizer")])
            #expect(result.exitedNormally && result.status != 0)
            #expect(result.stderr.split(separator: "\n").count == 1 && result.stderr.contains(word), "\(result.stderr)")
        }
    }
}
