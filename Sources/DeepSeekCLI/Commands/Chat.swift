import ArgumentParser
import Engine
import Foundation
import JSON

/// `deepseek chat`: a multi-turn conversation in the terminal, formatted with the chat template.
struct Chat: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Chat with a model in the terminal.",
        discussion: "Type a message and press return. /reset starts over, /exit (or end of input) quits.")

    @OptionGroup var model: ModelOptions
    @OptionGroup var runtime: RuntimeOptions
    @OptionGroup var loading: LoadOptions
    @Option(help: "A system prompt for the conversation.") var system: String?
    @OptionGroup var sampling: SamplingOptions
    @OptionGroup var stopping: StoppingOptions

    func run() async throws {
        runtime.apply()
        // Each turn's prompt starts with the previous turns, whose blocks the engine's prefix cache keeps.
        let engine = try model.loadEngine(loading, contextLength: stopping.context)
        let tokenizer = engine.tokenizer
        let start: [JSONValue] = system.map { [.object(JSONObject([("role", .string("system")), ("content", .string($0))]))] } ?? []
        var messages = start
        Output.status("Chatting with \(try model.folder()). /reset starts over, /exit quits.")
        while true {
            FileHandle.standardError.write(Data("> ".utf8))
            guard let line = readLine(strippingNewline: true) else { break }
            let input = line.trimmingCharacters(in: .whitespaces)
            if input.isEmpty { continue }
            if input == "/exit" || input == "/quit" { break }
            if input == "/reset" { messages = start; Output.status("(conversation cleared)"); continue }
            messages.append(.object(JSONObject([("role", .string("user")), ("content", .string(input))])))
            let prompt = try tokenizer.applyChatTemplate(messages: messages, addGenerationPrompt: true)
            let ids = tokenizer.encode(prompt, addSpecialTokens: false)
            var reply = ""
            do {
                for try await event in try await engine.submit(stopping.request(prompt: ids, sampling: sampling.parameters)) {
                    switch event {
                    case let .token(_, text, _), let .text(text):
                        reply += text
                        Output.print(text, terminator: "")
                    case let .finished(reason, usage):
                        Output.print("")
                        Output.status(String(format: "[%d tokens, %.1f tokens/s, %@]", usage.completionTokens,
                                             usage.decodeTokensPerSecond, reason.rawValue))
                    }
                }
            } catch {
                // A turn that no longer fits is reported and dropped; the conversation goes on.
                Output.status("error: \(error)")
                messages.removeLast()
                continue
            }
            messages.append(.object(JSONObject([("role", .string("assistant")), ("content", .string(reply))])))
        }
    }
}
