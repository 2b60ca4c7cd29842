import Foundation
import JSON
import Testing

@Suite struct ChatCommandTests {
    func write(_ text: String) throws -> String {
        let path = CLI.temporaryPath("messages") + ".json"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func templateMatchesTransformersForEveryFixtureConversation() throws {
        let cases = try JSONValue.parse(Data(contentsOf: CLI.fixtures.appendingPathComponent("tokenizer/chat_cases.json"))).arrayValue!
        for c in cases {
            let path = try write(c["messages"]!.serialized())
            defer { try? FileManager.default.removeItem(atPath: path) }
            var arguments = ["template", "--model", CLI.model(), "--messages", path, "--json"]
            if c["add_generation_prompt"] == .bool(true) { arguments.append("--add-generation-prompt") }
            let result = try CLI.run(arguments)
            #expect(result.status == 0, "\(result.stderr)")
            let json = try JSONValue.parse(result.stdout)
            #expect(json["text"] == c["text"])
            #expect(json["ids"] == c["ids"])
        }
    }

    @Test func badMessageFilesAreOneLineErrors() throws {
        for (content, phrase) in [("{", "invalid JSON"), ("{\"x\": 1}", "expected a list"), ("[{\"content\": \"hi\"}]", "no string \"role\""),
                                  ("[{\"role\": \"wizard\", \"content\": \"hi\"}]", "unknown role 'wizard'")] {
            let path = try write(content)
            defer { try? FileManager.default.removeItem(atPath: path) }
            let result = try CLI.run(["template", "--model", CLI.model(), "--messages", path])
            #expect(result.exitedNormally && result.status != 0)
            #expect(result.stderr.contains(phrase), "stderr: \(result.stderr)")
        }
        let missing = try CLI.run(["template", "--model", CLI.model(), "--messages", "/no/such.json"])
        #expect(missing.status != 0 && missing.stderr.contains("/no/such.json"))
    }

    @Test func chatRunsTurnsUntilExit() throws {
        let result = try CLI.run(["chat", "--model", CLI.model(), "--max-tokens", "4", "--seed", "2", "--ignore-eos"],
                                 stdin: "Hello\n/reset\nAgain\n/exit\nnever read\n")
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.components(separatedBy: "[4 tokens").count - 1 == 2)
        #expect(result.stderr.contains("(conversation cleared)"))
    }

    @Test func chatEndsAtEndOfInput() throws {
        let result = try CLI.run(["chat", "--model", CLI.model(), "--max-tokens", "2"], stdin: "")
        #expect(result.status == 0)
    }
}
