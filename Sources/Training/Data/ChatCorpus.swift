import Foundation
import JSON
import Tokenizer

/// Reads fine-tuning conversations: JSON Lines whose objects hold `"messages"` (`role` and `content`, as
/// the OpenAI API and the chat template take them), rendered with the tokenizer's chat template. Only the
/// assistants' replies, their end-of-sentence token included, are predicted; system and user turns and the
/// `<｜Assistant｜>` marker that opens a reply are context.
public enum ChatCorpus {
    /// Each conversation's tokens with, per token, whether a loss is taken on it.
    public static func conversations(files: [String], tokenizer: Tokenizer) throws -> [(tokens: [Int], predicted: [Bool])] {
        guard !files.isEmpty else { throw TrainingError.invalidOption(name: "--data", detail: "give at least one file") }
        var out: [(tokens: [Int], predicted: [Bool])] = []
        for path in files {
            guard let data = FileManager.default.contents(atPath: path) else {
                throw TrainingError.unreadableData(path: path, detail: "no such file")
            }
            let text = String(decoding: data, as: UTF8.self)
            for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated()
                where !line.trimmingCharacters(in: .whitespaces).isEmpty {
                let fail = { (detail: String) in TrainingError.unreadableData(path: path, detail: "line \(number + 1): \(detail)") }
                guard let object = try? JSONValue.parse(Data(line.utf8)), let messages = object["messages"]?.arrayValue, !messages.isEmpty else {
                    throw fail("not a JSON object with a \"messages\" array")
                }
                do {
                    out.append(try conversation(messages, tokenizer: tokenizer))
                } catch let problem as Problem {
                    throw fail(problem.detail)
                } catch {
                    throw fail("\(error)")
                }
            }
        }
        return out
    }

    /// What is wrong with one conversation.
    struct Problem: Error {
        let detail: String
        init(_ detail: String) { self.detail = detail }
    }

    /// One conversation's tokens and which of them are predicted.
    ///
    /// The whole conversation is rendered and encoded once; each reply's span is found by rendering the
    /// conversation up to it (with the generation prompt) and through it, which must encode to prefixes of
    /// the whole (DeepSeek's template joins turns with added tokens, which always split the text).
    static func conversation(_ messages: [JSONValue], tokenizer: Tokenizer) throws -> (tokens: [Int], predicted: [Bool]) {
        for message in messages {
            guard let role = message["role"]?.stringValue, ["system", "user", "assistant", "tool"].contains(role) else {
                throw Problem("a message has no role of system, user, assistant or tool")
            }
            guard message["content"]?.stringValue != nil else {
                throw Problem("a \(role) message has no string content")
            }
        }
        let render = { (count: Int, prompt: Bool) throws -> [Int] in
            tokenizer.encode(try tokenizer.applyChatTemplate(messages: Array(messages[..<count]), addGenerationPrompt: prompt), addSpecialTokens: false)
        }
        let tokens = try render(messages.count, false)
        var predicted = [Bool](repeating: false, count: tokens.count)
        for (i, message) in messages.enumerated() where message["role"]?.stringValue == "assistant" {
            let before = try render(i, true), through = try render(i + 1, false)
            guard before.count <= through.count, through[..<before.count] == before[...],
                  through.count <= tokens.count, tokens[..<through.count] == through[...] else {
                throw Problem("the chat template does not split this conversation at its turns")
            }
            for j in before.count..<through.count { predicted[j] = true }
        }
        guard predicted.contains(true) else {
            throw Problem("the conversation has no assistant reply to learn")
        }
        return (tokens, predicted)
    }
}
