import ArgumentParser
import Foundation
import JSON
import Tokenizer

/// `deepseek template`: renders an OpenAI-style message list with the model's chat template.
struct Template: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Render messages with the chat template.")

    @OptionGroup var model: ModelOptions
    @Option(help: "JSON file: a list of messages, or {\"messages\": [...], \"tools\": [...]}.") var messages: String
    @Flag(name: .customLong("add-generation-prompt"), help: "End with the assistant prompt.") var addGenerationPrompt = false
    @Flag(help: "Print {\"text\": \"...\", \"ids\": [...]}.") var json = false

    func run() throws {
        let tokenizer = try model.loadTokenizer()
        let (list, tools) = try Self.readMessages(path: messages)
        let text = try tokenizer.applyChatTemplate(messages: list, addGenerationPrompt: addGenerationPrompt, tools: tools)
        if json {
            let ids = tokenizer.encode(text, addSpecialTokens: false)
            Output.json(.object(JSONObject([("text", .string(text)), ("ids", .ints(ids))])))
        } else {
            Output.print(text, terminator: "")
        }
    }

    /// Reads and checks a messages file: every message an object with a string `role`.
    static func readMessages(path: String) throws -> ([JSONValue], [JSONValue]?) {
        guard let data = FileManager.default.contents(atPath: path) else { throw ValidationError("\(path): no such file") }
        let root: JSONValue
        do { root = try JSONValue.parse(data) } catch { throw ValidationError("\(path): \(error)") }
        guard let list = root.arrayValue ?? root["messages"]?.arrayValue else {
            throw ValidationError("\(path): expected a list of messages or an object with \"messages\"")
        }
        for (i, message) in list.enumerated() {
            guard let role = message["role"]?.stringValue else {
                throw ValidationError("\(path): message \(i) has no string \"role\"")
            }
            guard ["system", "user", "assistant", "tool", "developer"].contains(role) else {
                throw ValidationError("\(path): message \(i) has unknown role '\(role)'")
            }
        }
        return (list, root["tools"]?.arrayValue)
    }
}
