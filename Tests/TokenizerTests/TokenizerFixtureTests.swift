import Foundation
import JSON
import Testing
@testable import Tokenizer

let fixtureRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("Fixtures/tokenizer")

struct TokenizerCase {
    let text: String
    let ids: [Int]
    let idsNoSpecial: [Int]
    let decoded: String
    let decodedSkipSpecial: String
}

func loadCases() throws -> [TokenizerCase] {
    let json = try JSONValue.parse(Data(contentsOf: fixtureRoot.appendingPathComponent("cases.json")))
    return json.arrayValue!.map { item in
        TokenizerCase(
            text: item["text"]!.stringValue!, ids: item["ids"]!.arrayValue!.map { $0.intValue! },
            idsNoSpecial: item["ids_no_special"]!.arrayValue!.map { $0.intValue! },
            decoded: item["decoded"]!.stringValue!, decodedSkipSpecial: item["decoded_skip_special"]!.stringValue!)
    }
}

/// Ids and texts against what Hugging Face produced for the same tokenizer (scripts/make_tokenizer_fixtures.py).
@Suite struct TokenizerFixtureTests {
    let tokenizer: Tokenizer
    let cases: [TokenizerCase]

    init() throws {
        tokenizer = try Tokenizer(directory: fixtureRoot.path)
        cases = try loadCases()
    }

    @Test func thereAreAtLeast150Cases() { #expect(cases.count >= 150) }

    @Test func encodingWithSpecialTokensMatchesTransformers() {
        for c in cases { #expect(tokenizer.encode(c.text) == c.ids, "text: \(c.text.debugDescription)") }
    }

    @Test func encodingWithoutSpecialTokensMatchesTransformers() {
        for c in cases {
            #expect(tokenizer.encode(c.text, addSpecialTokens: false) == c.idsNoSpecial, "text: \(c.text.debugDescription)")
        }
    }

    @Test func decodingMatchesTransformers() throws {
        for c in cases {
            #expect(try tokenizer.decode(c.ids) == c.decoded)
            #expect(try tokenizer.decode(c.ids, skipSpecialTokens: true) == c.decodedSkipSpecial)
        }
    }

    @Test func streamingDecodeEqualsWholeDecode() throws {
        for c in cases {
            var stream = StreamingDecoder(tokenizer: tokenizer, skipSpecialTokens: false)
            var text = ""
            for id in c.ids {
                let piece = try stream.append(id)
                #expect(!piece.unicodeScalars.contains("\u{FFFD}") || c.decoded.unicodeScalars.contains("\u{FFFD}"))
                text += piece
            }
            text += stream.finish()
            #expect(text == c.decoded)
        }
    }

    @Test func specialTokenMetadata() {
        #expect(tokenizer.bosID == 0)
        #expect(tokenizer.eosID == 1)
        #expect(tokenizer.isSpecial(0) && !tokenizer.isSpecial(tokenizer.id(of: "<｜User｜>")!))
        #expect(tokenizer.vocabularySize == 512)
        #expect(tokenizer.chatTemplate?.contains("<｜Assistant｜>") == true)
    }

    @Test func unknownIDIsAnErrorButStreamingSkipsIt() throws {
        #expect(throws: TokenizerError.unknownTokenID(9999, vocabulary: 512)) { try tokenizer.decode([9999]) }
        var stream = StreamingDecoder(tokenizer: tokenizer)
        #expect(try stream.append(42) + stream.append(9999) + stream.append(71) == (try tokenizer.decode([42, 71])))
    }
}

/// Without a TemplateProcessing post-processor, tokenizer_config.json's add_bos_token / add_eos_token decide.
@Suite struct PostProcessorFallbackTests {
    func tokenizer(addBOS: Bool, addEOS: Bool) throws -> Tokenizer {
        var json = try JSONValue.parse(Data(contentsOf: fixtureRoot.appendingPathComponent("tokenizer.json"))).objectValue!
        json["post_processor"] = .null
        let config = JSONValue.object(JSONObject([
            ("bos_token", .object(JSONObject([("content", .string("<｜begin▁of▁sentence｜>"))]))),
            ("eos_token", .string("<｜end▁of▁sentence｜>")), ("add_bos_token", .bool(addBOS)), ("add_eos_token", .bool(addEOS)),
        ]))
        return try Tokenizer(tokenizer: .object(json), config: config, path: "tokenizer.json")
    }

    @Test func addBOSAndEOSFromTheConfig() throws {
        let plain = try tokenizer(addBOS: false, addEOS: false).encode("Hello")
        #expect(try tokenizer(addBOS: true, addEOS: false).encode("Hello") == [0] + plain)
        #expect(try tokenizer(addBOS: true, addEOS: true).encode("Hello") == [0] + plain + [1])
        #expect(try tokenizer(addBOS: true, addEOS: true).encode("Hello", addSpecialTokens: false) == plain)
    }
}
