import Foundation
import JSON
import Testing
@testable import Tokenizer

/// `deepseek tokenizer train`'s trainer: the merges it learns, and that what it writes is the tokenizer
/// Hugging Face `tokenizers` loads and encodes identically (scripts/make_tokenizer_training_fixtures.py).
@Suite struct TokenizerTrainingTests {
    static let folder = fixtureRoot.deletingLastPathComponent().appendingPathComponent("tokenizer-trained")

    @Test func mergesFollowPairCountsWithTiesToEarlierSymbols() {
        // The classic example: "ug" (20) first; then "un" (16) beats "hug" (15) once "pug" has lost its "pu".
        let words: [[UInt8]: Int] = [Array("hug".utf8): 10, Array("pug".utf8): 5, Array("pun".utf8): 12,
                                     Array("bun".utf8): 4, Array("hugs".utf8): 5]
        let merges = BPETrainer(merges: 3, minimumFrequency: 1).train(words: words)
        let u = Int32(UInt8(ascii: "u")), g = Int32(UInt8(ascii: "g")), n = Int32(UInt8(ascii: "n")), h = Int32(UInt8(ascii: "h"))
        #expect(merges == [.init(left: u, right: g), .init(left: u, right: n), .init(left: h, right: 256)])
        // Equal counts: the pair of smaller symbols wins, whatever the dictionary order.
        let tie = BPETrainer(merges: 1, minimumFrequency: 1).train(words: [Array("yz".utf8): 3, Array("ab".utf8): 3])
        #expect(tie == [.init(left: Int32(UInt8(ascii: "a")), right: Int32(UInt8(ascii: "b")))])
    }

    @Test func overlappingPairsMergeLeftToRightAndStopBelowTheMinimumFrequency() {
        // "aaaa" holds "aa" three times but only two merge; "aa"+"aa" then occurs once per word.
        let merges = BPETrainer(merges: 10, minimumFrequency: 2).train(words: [Array("aaaa".utf8): 2, Array("xy".utf8): 1])
        let a = Int32(UInt8(ascii: "a"))
        #expect(merges == [.init(left: a, right: a), .init(left: 256, right: 256)])
    }

    @Test func retrainingTheFixtureCorpusWritesTheSameFiles() throws {
        var trainer = try TokenizerTrainer(vocabularySize: 700)
        trainer.add(text: try String(contentsOf: Self.folder.appendingPathComponent("corpus.txt"), encoding: .utf8))
        let trained = trainer.train()
        #expect(trained.tokens.count == 700)
        #expect(trained.tokenizerJSON == (try String(contentsOf: Self.folder.appendingPathComponent("tokenizer.json"), encoding: .utf8)))
        #expect(trained.configJSON() == (try String(contentsOf: Self.folder.appendingPathComponent("tokenizer_config.json"), encoding: .utf8)))
    }

    @Test func theTrainedTokenizerEncodesAsHuggingFaceDoes() throws {
        let tokenizer = try Tokenizer(directory: Self.folder.path)
        let cases = try JSONValue.parse(Data(contentsOf: Self.folder.appendingPathComponent("cases.json"))).arrayValue!
        #expect(cases.count > 100)
        for item in cases {
            let text = item["text"]!.stringValue!
            let ids = tokenizer.encode(text)
            #expect(ids == item["ids"]!.arrayValue!.map { $0.intValue! }, "\(text.prefix(40))")
            #expect(try tokenizer.decode(tokenizer.encode(text, addSpecialTokens: false)) == text)
        }
    }

    @Test func itHasDeepSeekV3sTokensAndChatTemplate() throws {
        let tokenizer = try Tokenizer(directory: Self.folder.path)
        #expect(tokenizer.bosID == 0 && tokenizer.eosID == 1)
        #expect(tokenizer.id(of: "<｜User｜>") == 700 - DeepSeekTokenizerFormat.addedTokens.count)
        #expect(tokenizer.id(of: "<｜tool▁sep｜>") == 699)
        let reference = try Tokenizer(directory: fixtureRoot.path)
        #expect(tokenizer.chatTemplate == reference.chatTemplate)
        let messages: [JSONValue] = [.object(JSONObject([("role", .string("user")), ("content", .string("Hi"))]))]
        #expect(try tokenizer.applyChatTemplate(messages: messages, addGenerationPrompt: true)
            == "<｜begin▁of▁sentence｜><｜User｜>Hi<｜Assistant｜>")
    }

    /// Windows line ends split lines as "\n" does: a CRLF text counts the words its lines count one by one.
    @Test func crlfTextIsCountedLineByLine() throws {
        // Read as one line, the blank line's two line ends would make one word.
        let lines = ["In the beginning God\r\n", "\r\n", "  created the heaven\r\n", "and the earth.\r\n"]
        var whole = try TokenizerTrainer(vocabularySize: 300)
        whole.add(text: lines.joined())
        var separate = try TokenizerTrainer(vocabularySize: 300)
        for line in lines { separate.add(text: line) }
        #expect(whole.words == separate.words)
        var unsplit = try TokenizerTrainer(vocabularySize: 300)
        unsplit.add(text: lines.joined().replacingOccurrences(of: "\r\n", with: " "))
        #expect(whole.words != unsplit.words)
    }

    @Test func tooSmallAVocabularyIsRejected() {
        #expect(throws: TokenizerError.invalidVocabularySize(100, minimum: 272)) { try TokenizerTrainer(vocabularySize: 100) }
        #expect(throws: TokenizerError.invalidMinimumFrequency(0)) { try TokenizerTrainer(vocabularySize: 400, minimumFrequency: 0) }
    }
}
