import ArgumentParser
import Engine
import Foundation
import JSON

/// `deepseek generate`: completes a prompt, streaming text to stdout and speed to stderr.
struct Generate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Generate a completion of a prompt.")

    @OptionGroup var model: ModelOptions
    @OptionGroup var runtime: RuntimeOptions
    @OptionGroup var loading: LoadOptions
    @Option(help: "Prompt text (a BOS token is added as the tokenizer config says).") var prompt: String?
    @Option(name: .customLong("prompt-ids"), help: "Prompt as token ids, e.g. 1,2,3.") var promptIDs: TokenIDList?
    @OptionGroup var sampling: SamplingOptions
    @OptionGroup var stopping: StoppingOptions
    @Flag(help: "Print one JSON object with ids, text, finish reason and usage instead of streaming.") var json = false

    func validate() throws {
        guard (prompt == nil) != (promptIDs == nil) else { throw ValidationError("give exactly one of --prompt and --prompt-ids") }
    }

    func run() async throws {
        runtime.apply()
        let engine = try model.loadEngine(loading, contextLength: stopping.context)
        let ids = promptIDs?.ids ?? engine.tokenizer.encode(prompt ?? "")
        let request = stopping.request(prompt: ids, sampling: sampling.parameters)
        var generated: [Int] = [], text = ""
        var finish: (FinishReason, Usage)?
        for try await event in try await engine.submit(request) {
            switch event {
            case let .token(id, piece, _):
                generated.append(id)
                text += piece
                if !json { Output.print(piece, terminator: "") }
            case let .text(piece):
                text += piece
                if !json { Output.print(piece, terminator: "") }
            case let .finished(reason, usage): finish = (reason, usage)
            }
        }
        guard let (reason, usage) = finish else { return }
        if json {
            Output.json(.object(JSONObject([
                ("prompt_ids", .ints(ids)), ("generated_ids", .ints(generated)), ("text", .string(text)),
                ("finish_reason", .string(reason.rawValue)), ("usage", usage.json),
            ])))
        } else {
            Output.print("")
            Output.status(String(format: "prompt: %d tokens, %.1f tokens/s | generated: %d tokens, %.1f tokens/s | finish: %@",
                                 usage.promptTokens, usage.prefillTokensPerSecond, usage.completionTokens,
                                 usage.decodeTokensPerSecond, reason.rawValue))
        }
    }
}

extension Usage {
    var json: JSONValue {
        .object(JSONObject([
            ("prompt_tokens", .int(promptTokens)), ("completion_tokens", .int(completionTokens)),
            ("total_tokens", .int(totalTokens)), ("prefill_tokens_per_second", .double(prefillTokensPerSecond)),
            ("decode_tokens_per_second", .double(decodeTokensPerSecond)),
        ]))
    }
}
