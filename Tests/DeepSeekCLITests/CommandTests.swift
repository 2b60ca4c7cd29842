import Foundation
import JSON
import Testing

/// The commands as a user runs them.
@Suite struct CommandTests {
    @Test func generateJSONMatchesTheGreedyReference() throws {
        let reference = try JSONValue.parse(Data(contentsOf: URL(fileURLWithPath: CLI.model()).appendingPathComponent("reference.json")))
        let prompt = reference["prompt_ids"]!.arrayValue!.map { String($0.intValue!) }.joined(separator: ",")
        let greedy = reference["greedy_ids"]!.arrayValue!
        let result = try CLI.run(["generate", "--model", CLI.model(), "--prompt-ids", prompt, "--temperature", "0",
                                  "--max-tokens", "\(greedy.count)", "--ignore-eos", "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        let json = try JSONValue.parse(result.stdout)
        #expect(json["generated_ids"]?.arrayValue == greedy)
        #expect(json["finish_reason"] == .string("length"))
        #expect(json["usage"]?["completion_tokens"] == .int(greedy.count))
        #expect(json["text"]?.stringValue != nil)
    }

    @Test func generateStreamsTextAndReportsSpeed() throws {
        let result = try CLI.run(["generate", "--model", CLI.model(), "--prompt", "Hello", "--max-tokens", "6", "--seed", "3", "--ignore-eos"])
        #expect(result.status == 0)
        #expect(!result.stdout.isEmpty)
        #expect(result.stderr.contains("generated: 6 tokens"))
        #expect(result.stderr.contains("tokens/s"))
        let again = try CLI.run(["generate", "--model", CLI.model(), "--prompt", "Hello", "--max-tokens", "6", "--seed", "3", "--ignore-eos"])
        #expect(again.stdout == result.stdout)
    }

    @Test func tokenizeAndDetokenizeRoundTrip() throws {
        let tokens = try CLI.run(["tokenize", "--model", CLI.model(), "--text", "Hello, world! 你好", "--json"])
        #expect(tokens.status == 0)
        let ids = try JSONValue.parse(tokens.stdout)["ids"]!.arrayValue!.map { String($0.intValue!) }
        #expect(ids.first == "0")
        let text = try CLI.run(["detokenize", "--model", CLI.model(), "--ids", ids.joined(separator: ","), "--skip-special", "--json"])
        #expect(try JSONValue.parse(text.stdout)["text"] == .string("Hello, world! 你好"))
    }

    @Test func tokenizeNeedsOnlyTheTokenizerFiles() throws {
        let folder = URL(fileURLWithPath: CLI.temporaryPath("tok"))
        defer { try? FileManager.default.removeItem(at: folder) }
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        for file in ["tokenizer.json", "tokenizer_config.json"] {
            try FileManager.default.copyItem(at: URL(fileURLWithPath: CLI.model()).appendingPathComponent(file),
                                             to: folder.appendingPathComponent(file))
        }
        let result = try CLI.run(["tokenize", "--model", folder.path, "--text", "abc", "--no-special"])
        #expect(result.status == 0 && !result.stdout.isEmpty && !result.stdout.hasPrefix("0,"))
    }

    @Test func logitsJSONHasOneRowPerPositionWithAll() throws {
        let result = try CLI.run(["logits", "--model", CLI.model(), "--ids", "5,6,7", "--all", "--json"])
        #expect(result.status == 0)
        let rows = try JSONValue.parse(result.stdout)["logits"]!.arrayValue!
        #expect(rows.count == 3 && rows.allSatisfy { $0.arrayValue?.count == 512 })
        let last = try CLI.run(["logits", "--model", CLI.model(), "--ids", "5,6,7", "--json"])
        let lastRow = try JSONValue.parse(last.stdout)["logits"]!.arrayValue!
        #expect(lastRow.count == 1 && lastRow[0] == rows[2])
    }

    @Test func threadCountDoesNotChangeTheResult() throws {
        let one = try CLI.run(["logits", "--model", CLI.model("v3-fp8-real-heads"), "--ids", "5,6,7,8", "--all", "--json", "--threads", "1"])
        let two = try CLI.run(["logits", "--model", CLI.model("v3-fp8-real-heads"), "--ids", "5,6,7,8", "--all", "--json", "--threads", "2"])
        #expect(one.status == 0 && two.status == 0)
        #expect(one.stdout == two.stdout)
        let bad = try CLI.run(["logits", "--model", CLI.model(), "--ids", "1", "--threads", "0"])
        #expect(bad.status != 0 && bad.stderr.contains("--threads must be ≥ 1"))
    }

    @Test func prefillChunksGiveTheSameLogits() throws {
        let whole = try CLI.run(["logits", "--model", CLI.model(), "--ids", "5,6,7,8,9", "--all", "--json"])
        let chunked = try CLI.run(["logits", "--model", CLI.model(), "--ids", "5,6,7,8,9", "--all", "--json", "--prefill-chunk", "2"])
        #expect(whole.status == 0 && chunked.status == 0)
        let a = try JSONValue.parse(whole.stdout)["logits"]!.arrayValue!.flatMap { $0.arrayValue!.map { $0.doubleValue! } }
        let b = try JSONValue.parse(chunked.stdout)["logits"]!.arrayValue!.flatMap { $0.arrayValue!.map { $0.doubleValue! } }
        #expect(a.count == b.count && zip(a, b).allSatisfy { abs($0 - $1) <= 1e-4 * max(1, abs($0)) })
        let bad = try CLI.run(["logits", "--model", CLI.model(), "--ids", "1", "--prefill-chunk", "0"])
        #expect(bad.status != 0 && bad.stderr.contains("--prefill-chunk must be ≥ 1"))
    }

    @Test func mappedWeightsGiveTheSameLogits() throws {
        let copied = try CLI.run(["logits", "--model", CLI.model(), "--ids", "5,6,7", "--all", "--json"])
        let mapped = try CLI.run(["logits", "--model", CLI.model(), "--ids", "5,6,7", "--all", "--json", "--mmap"])
        #expect(copied.status == 0 && mapped.status == 0)
        #expect(copied.stdout == mapped.stdout)
    }

    @Test func infoSummarisesTheArchitecture() throws {
        let result = try CLI.run(["info", "--model", CLI.model("v3-fp8-real-heads")])
        #expect(result.status == 0)
        #expect(result.stdout.contains("2 (1 dense, 1 MoE)"))
        #expect(result.stdout.contains("kv_lora_rank 512"))
        #expect(result.stdout.contains("F8_E4M3"))
        #expect(result.stdout.contains("active per token"))
    }
}
