import Foundation
import JSON
import Testing

/// `deepseek quantize` and `deepseek perplexity` end to end through the executable.
@Suite struct QuantizeCommandTests {
    static let text = CLI.fixtures.appendingPathComponent("text/sample.txt").path

    func temporaryFolder() -> String { CLI.temporaryPath("quantize") }

    @Test func quantizeThenMeasureAgainstTheOriginal() throws {
        let out = temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: out) }
        let made = try CLI.run(["quantize", "--model", CLI.model("v3-trained"), "--out", out, "--format", "q4",
                                "--mixed", "attention=q8,shared=q8", "--threads", "2"])
        #expect(made.status == 0, "\(made.stderr)")
        #expect(made.stderr.contains("experts=q4") && made.stderr.contains("attention=q8"))
        let ppl = try CLI.run(["perplexity", "--model", out, "--reference", CLI.model("v3-trained"), "--file", Self.text,
                               "--context", "128", "--json"])
        #expect(ppl.status == 0, "\(ppl.stderr)")
        let report = try JSONValue.parse(ppl.stdout)
        let top1 = report["top1_agreement"]!.doubleValue!, kl = report["mean_kl"]!.doubleValue!
        #expect(top1 >= 0.95 && top1 <= 1, "top-1 \(top1)")
        #expect(kl > 0 && kl < 0.05)
        #expect(report["perplexity"]!.doubleValue! < 10)
        let text = try CLI.run(["perplexity", "--model", out, "--file", Self.text])
        #expect(text.status == 0 && text.stdout.contains("perplexity:") && !text.stdout.contains("top-1"))
        // The quantized checkpoint serves generation like any other.
        let generated = try CLI.run(["generate", "--model", out, "--prompt", "The river", "--max-tokens", "4", "--temperature", "0"])
        #expect(generated.status == 0, "\(generated.stderr)")
    }

    @Test func badArgumentsAreOneLineErrors() throws {
        let cases: [([String], String)] = [
            (["quantize", "--model", CLI.model(), "--out", temporaryFolder(), "--format", "q3"], "--format must be one of"),
            (["quantize", "--model", CLI.model(), "--out", temporaryFolder(), "--format", "q4", "--mixed", "experts:q8"], "--mixed"),
            (["quantize", "--model", CLI.model(), "--out", temporaryFolder(), "--format", "q4", "--mixed", "experts=q2"], "not a format"),
            (["quantize", "--model", CLI.model(), "--out", CLI.model(), "--format", "q8"], "input folder"),
            (["quantize", "--model", "/no/model", "--out", temporaryFolder(), "--format", "q8"], "/no/model"),
            (["perplexity", "--model", CLI.model(), "--file", "/no/text.txt"], "/no/text.txt"),
            (["perplexity", "--model", CLI.model(), "--file", Self.text, "--context", "1"], "--context"),
            (["perplexity", "--model", CLI.model("v3-trained"), "--file", Self.text, "--reference", "/no/ref"], "/no/ref"),
        ]
        for (arguments, message) in cases {
            let result = try CLI.run(arguments)
            #expect(result.exitedNormally && result.status != 0, "\(arguments)")
            #expect(result.stderr.contains(message), "\(arguments): \(result.stderr)")
            #expect(result.stderr.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: "\n").count == 1, "\(result.stderr)")
        }
        // The refused in-place quantize left the input untouched.
        #expect(try CLI.run(["logits", "--model", CLI.model(), "--ids", "3"]).status == 0)
    }
}
