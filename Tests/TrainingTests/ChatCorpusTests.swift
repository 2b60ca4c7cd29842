import Foundation
import JSON
import Testing
import Tokenizer
@testable import Training

/// Fine-tuning conversations: the loss covers the assistants' replies and their end-of-sentence tokens only.
struct ChatCorpusTests {
    static let tokenizer = try! Tokenizer(directory: TrainingFixtures.path("v3-trained"))

    static func message(_ role: String, _ content: String) -> JSONValue {
        .object(JSONObject([("role", .string(role)), ("content", .string(content))]))
    }

    @Test func onlyTheRepliesArePredicted() throws {
        let messages = [Self.message("system", "Be brief."), Self.message("user", "Hi there"), Self.message("assistant", "Hello!"),
                        Self.message("user", "2+2?"), Self.message("assistant", "It is 4.")]
        let (tokens, predicted) = try ChatCorpus.conversation(messages, tokenizer: Self.tokenizer)
        #expect(tokens == Self.tokenizer.encode(try Self.tokenizer.applyChatTemplate(messages: messages, addGenerationPrompt: false), addSpecialTokens: false))
        let eos = Self.tokenizer.eosToken!
        #expect(try Self.tokenizer.decode(zip(tokens, predicted).filter(\.1).map(\.0)) == "Hello!" + eos + "It is 4." + eos)
        // The first reply's span ends where the next user turn begins.
        let firstEnd = predicted.firstIndex(of: true)! + predicted[predicted.firstIndex(of: true)!...].prefix { $0 }.count
        #expect(try Self.tokenizer.decode([tokens[firstEnd]]) == "<｜User｜>")
    }

    @Test func badConversationsNameTheLine() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("chat-\(UUID().uuidString).jsonl").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let lines = [#"{"messages": [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}]}"#,
                     #"{"messages": [{"role": "user", "content": "only a question"}]}"#]
        try lines.joined(separator: "\n").write(toFile: path, atomically: true, encoding: .utf8)
        #expect(throws: TrainingError.unreadableData(path: path, detail: "line 2: the conversation has no assistant reply to learn")) {
            try ChatCorpus.conversations(files: [path], tokenizer: Self.tokenizer)
        }
    }
}
