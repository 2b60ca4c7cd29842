import Foundation
import JSON
import Testing

/// `deepseek finetune`, `merge-lora` and `--lora` as a user runs them: PEFT's adapters load and give PEFT's
/// logits, a fine-tuning run learns its conversations and writes an adapter that merging folds in exactly.
struct FinetuneCommandTests {
    static func logits(_ arguments: [String]) throws -> [Float] {
        let result = try CLI.run(["logits"] + arguments + ["--all", "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        return try JSONValue.parse(result.stdout)["logits"]!.arrayValue!.flatMap { row in
            row.arrayValue.map { $0.map { Float($0.doubleValue!) } } ?? [Float(row.doubleValue!)]
        }
    }

    static func maxDifference(_ a: [Float], _ b: [Float]) -> Float {
        #expect(a.count == b.count)
        return zip(a, b).map { abs($0 - $1) }.max() ?? .infinity
    }

    @Test func aPEFTAdapterGivesPEFTsLogits() throws {
        let folder = CLI.fixtures.appendingPathComponent("lora/v3-yarn")
        let expected = try JSONValue.parse(Data(contentsOf: folder.appendingPathComponent("expected.json")))
        let ids = expected["prompt_ids"]!.arrayValue!.map { String($0.intValue!) }.joined(separator: ",")
        let reference = expected["logits"]!.arrayValue!.flatMap { $0.arrayValue!.map { Float($0.doubleValue!) } }
        let adapted = try Self.logits(["--model", CLI.model("v3-yarn"), "--lora", folder.path, "--ids", ids])
        let base = try Self.logits(["--model", CLI.model("v3-yarn"), "--ids", ids])
        #expect(Self.maxDifference(adapted, reference) < 1e-4)
        #expect(Self.maxDifference(base, reference) > 1e-2, "the adapter changes the logits")
    }

    static func chatFile() throws -> String {
        let path = CLI.temporaryPath("chat") + ".jsonl"
        var lines: [String] = []
        for i in 0..<30 {
            let (a, b) = (i % 7, (i * 3) % 5)
            lines.append(#"{"messages": [{"role": "system", "content": "You add."}, {"role": "user", "content": "\#(a) plus \#(b)?"}, {"role": "assistant", "content": "\#(a) plus \#(b) is \#(a + b)."}]}"#)
        }
        try lines.joined(separator: "\n").write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func fineTuningLearnsTheRepliesAndMergingFoldsTheAdapterIn() throws {
        let data = try Self.chatFile(), out = CLI.temporaryPath("finetune"), merged = CLI.temporaryPath("merged")
        defer { for path in [data, out, merged] { try? FileManager.default.removeItem(atPath: path) } }
        let model = CLI.model("v3-trained")
        let run = try CLI.run(["finetune", "--model", model, "--data", data, "--out", out, "--steps", "24", "--sequence-length", "32",
                               "--batch-sequences", "4", "--lr", "1e-2", "--lora-rank", "8", "--lora-alpha", "16",
                               "--lora-targets", "q_a_proj,kv_b_proj,o_proj,experts", "--eval-every", "0", "--seed", "2"])
        #expect(run.status == 0, "\(run.stderr)")
        for file in ["adapter_config.json", "adapter_model.safetensors", "metrics.csv"] {
            #expect(FileManager.default.fileExists(atPath: out + "/" + file), "\(file)")
        }
        let rows = try String(contentsOfFile: out + "/metrics.csv", encoding: .utf8).split(separator: "\n").dropFirst()
        let losses: [Double] = rows.map { Double($0.split(separator: ",")[1])! }
        let first: Double = losses.prefix(4).reduce(0, +), last: Double = losses.suffix(4).reduce(0, +)
        #expect(last < 0.6 * first, "\(losses)")

        let merge = try CLI.run(["merge-lora", "--model", model, "--lora", out, "--out", merged, "--dtype", "f32"])
        #expect(merge.status == 0, "\(merge.stderr)")
        let ids = ["--ids", "0,5,77,100,3,42"]
        let adapted = try Self.logits(["--model", model, "--lora", out] + ids)
        #expect(Self.maxDifference(adapted, try Self.logits(["--model", merged] + ids)) < 1e-4)
        #expect(Self.maxDifference(adapted, try Self.logits(["--model", model] + ids)) > 1e-2)
        let generated = try CLI.run(["generate", "--model", model, "--lora", out, "--prompt", "3 plus 1?", "--max-tokens", "4"])
        #expect(generated.status == 0, "\(generated.stderr)")
    }

    @Test func fullFineTuningWritesAWholeModel() throws {
        let data = try Self.chatFile(), out = CLI.temporaryPath("full")
        defer { for path in [data, out] { try? FileManager.default.removeItem(atPath: path) } }
        let run = try CLI.run(["finetune", "--full", "--model", CLI.model("v3-trained"), "--data", data, "--out", out, "--steps", "3",
                               "--sequence-length", "32", "--batch-sequences", "2", "--eval-every", "0"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(FileManager.default.fileExists(atPath: out + "/model.safetensors"))
        #expect(try CLI.run(["generate", "--model", out, "--prompt", "Hi", "--max-tokens", "3"]).status == 0)
    }

    @Test func badInputIsAOneLineError() throws {
        let data = try Self.chatFile(), bad = CLI.temporaryPath("bad") + ".jsonl"
        defer { for path in [data, bad] { try? FileManager.default.removeItem(atPath: path) } }
        try #"{"text": "no messages here"}"#.write(toFile: bad, atomically: true, encoding: .utf8)
        let model = CLI.model("v3-trained")
        for (arguments, word) in [
            (["finetune", "--model", model, "--data", data, "--out", CLI.temporaryPath("x"), "--lora-targets", "attention"], "unknown module 'attention'"),
            (["finetune", "--model", model, "--data", bad, "--out", CLI.temporaryPath("x")], "line 1"),
            (["finetune", "--model", model, "--data", data, "--out", CLI.temporaryPath("x"), "--lora-dropout", "1.5"], "--lora-dropout"),
            (["generate", "--model", model, "--lora", "/no/such/adapter", "--prompt", "Hi"], "adapter_config.json"),
            (["merge-lora", "--model", model, "--lora", CLI.fixtures.appendingPathComponent("lora/v3-yarn").path, "--out", CLI.temporaryPath("x")], "the model needs [4, 128]"),
        ] {
            let result = try CLI.run(arguments)
            #expect(result.exitedNormally && result.status != 0, "\(arguments)")
            #expect(result.stderr.split(separator: "\n").count == 1 && result.stderr.contains(word), "\(arguments): \(result.stderr)")
        }
    }
}
