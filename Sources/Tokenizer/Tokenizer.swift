import Foundation
import JSON

/// A Hugging Face byte-level BPE tokenizer (`tokenizer.json` + `tokenizer_config.json`), as
/// DeepSeek-V2/V3 ship them: added tokens matched first, then the pre-tokenizer pipeline,
/// byte mapping and BPE, then the post-processor's special tokens.
public final class Tokenizer: Sendable {
    let model: BPEModel
    let preTokenizer: PreTokenizer?
    let addedTokens: [Int: AddedToken]
    let matcher: AddedTokenMatcher
    let postProcessor: PostProcessor
    public let bosToken: String?
    public let eosToken: String?
    /// The Jinja chat template from tokenizer_config.json, if it has one.
    public let chatTemplate: String?

    /// Loads `directory/tokenizer.json` and, when present, `directory/tokenizer_config.json`.
    public convenience init(directory: String) throws {
        let base = URL(fileURLWithPath: directory)
        let tokenizerPath = base.appendingPathComponent("tokenizer.json").path
        let configPath = base.appendingPathComponent("tokenizer_config.json").path
        let tokenizer = try Self.readJSON(tokenizerPath, required: true)!
        let config = try Self.readJSON(configPath, required: false) ?? .object(JSONObject())
        try self.init(tokenizer: tokenizer, config: config, path: tokenizerPath)
    }

    static func readJSON(_ path: String, required: Bool) throws -> JSONValue? {
        guard let data = FileManager.default.contents(atPath: path) else {
            if required { throw TokenizerError.missingFile(path: path) }
            return nil
        }
        do {
            return try JSONValue.parse(data)
        } catch {
            throw TokenizerError.invalidFile(path: path, detail: "\(error)")
        }
    }

    init(tokenizer json: JSONValue, config: JSONValue, path: String) throws {
        guard let modelJSON = json["model"], modelJSON["type"]?.stringValue ?? "BPE" == "BPE" else {
            throw TokenizerError.unsupported(path: path, component: "model", detail: json["model"]?["type"]?.stringValue ?? "(missing)")
        }
        model = try Self.bpe(modelJSON, path: path)
        if let normalizer = json["normalizer"], normalizer != .null {
            throw TokenizerError.unsupported(path: path, component: "normalizer", detail: normalizer["type"]?.stringValue ?? "?")
        }
        preTokenizer = try json["pre_tokenizer"].flatMap { $0 == .null ? nil : try PreTokenizer(json: $0, path: path) }
        if let decoder = json["decoder"], decoder != .null, decoder["type"]?.stringValue != "ByteLevel" {
            throw TokenizerError.unsupported(path: path, component: "decoder", detail: decoder["type"]?.stringValue ?? "?")
        }
        var added: [Int: AddedToken] = [:]
        for item in json["added_tokens"]?.arrayValue ?? [] {
            guard let id = item["id"]?.intValue, let content = item["content"]?.stringValue else {
                throw TokenizerError.invalidFile(path: path, detail: "an added token lacks id or content")
            }
            added[id] = AddedToken(id: id, content: content, special: item["special"]?.boolValue ?? false,
                                   lstrip: item["lstrip"]?.boolValue ?? false, rstrip: item["rstrip"]?.boolValue ?? false,
                                   singleWord: item["single_word"]?.boolValue ?? false)
        }
        addedTokens = added
        matcher = AddedTokenMatcher(added.values.sorted { $0.id < $1.id })
        bosToken = Self.tokenName(config["bos_token"])
        eosToken = Self.tokenName(config["eos_token"])
        chatTemplate = Self.template(config["chat_template"])
        let ids = { (name: String?) in name.flatMap { n in added.values.first { $0.content == n }?.id ?? modelJSON["vocab"]?[n]?.intValue } }
        postProcessor = try PostProcessor(
            json: json["post_processor"] ?? .null, path: path,
            fallbackBOS: config["add_bos_token"]?.boolValue == true ? ids(bosToken) : nil,
            fallbackEOS: config["add_eos_token"]?.boolValue == true ? ids(eosToken) : nil)
    }

    private static func bpe(_ json: JSONValue, path: String) throws -> BPEModel {
        guard let vocab = json["vocab"]?.objectValue else {
            throw TokenizerError.invalidFile(path: path, detail: "model.vocab is missing")
        }
        var vocabulary: [String: Int] = [:]
        for (token, id) in vocab.pairs {
            guard let id = id.intValue else { throw TokenizerError.invalidFile(path: path, detail: "vocab entry '\(token)' has no integer id") }
            vocabulary[token] = id
        }
        let merges: [(String, String)] = try (json["merges"]?.arrayValue ?? []).map { merge in
            if let text = merge.stringValue, let space = text.firstIndex(of: " ") {
                return (String(text[..<space]), String(text[text.index(after: space)...]))
            }
            if let pair = merge.arrayValue, pair.count == 2, let a = pair[0].stringValue, let b = pair[1].stringValue { return (a, b) }
            throw TokenizerError.invalidFile(path: path, detail: "bad merge entry \(merge.brief)")
        }
        return BPEModel(vocabulary: vocabulary, merges: merges, ignoreMerges: json["ignore_merges"]?.boolValue ?? false)
    }

    private static func tokenName(_ value: JSONValue?) -> String? {
        value?.stringValue ?? value?["content"]?.stringValue
    }

    private static func template(_ value: JSONValue?) -> String? {
        if let text = value?.stringValue { return text }
        let named = value?.arrayValue?.compactMap { item -> (String, String)? in
            guard let name = item["name"]?.stringValue, let text = item["template"]?.stringValue else { return nil }
            return (name, text)
        }
        return named?.first { $0.0 == "default" }?.1 ?? named?.first?.1
    }

    // MARK: Vocabulary

    /// One past the largest token id.
    public var vocabularySize: Int { max((model.tokens.keys.max() ?? -1), (addedTokens.keys.max() ?? -1)) + 1 }

    /// The id of `token` (an added token or a vocabulary entry).
    public func id(of token: String) -> Int? {
        addedTokens.values.first { $0.content == token }?.id ?? model.vocabulary[token]
    }

    public var bosID: Int? { bosToken.flatMap(id(of:)) }
    public var eosID: Int? { eosToken.flatMap(id(of:)) }

    /// The stored string of token `id`.
    public func token(_ id: Int) -> String? { addedTokens[id]?.content ?? model.tokens[id] }

    public func isSpecial(_ id: Int) -> Bool { addedTokens[id]?.special ?? false }

    // MARK: Encoding and decoding

    /// Token ids of `text`; `addSpecialTokens` applies the post-processor (DeepSeek: a leading BOS).
    /// Added and special tokens written in the text are always recognised.
    public func encode(_ text: String, addSpecialTokens: Bool = true) -> [Int] {
        let scalars = Array(text.unicodeScalars)
        var ids: [Int] = []
        var view = String.UnicodeScalarView()
        for segment in matcher.segments(scalars) {
            switch segment {
            case let .token(token): ids.append(token.id)
            case let .text(range):
                view.removeAll(keepingCapacity: true)
                view.append(contentsOf: scalars[range])
                ids += encodeOrdinary(String(view))
            }
        }
        return addSpecialTokens ? postProcessor.apply(ids) : ids
    }

    private func encodeOrdinary(_ text: String) -> [Int] {
        let words = preTokenizer?.apply([text[...]]) ?? [text[...]]
        let mapsBytes = preTokenizer?.mapsBytes ?? false
        return words.flatMap { word in model.encode(word: mapsBytes ? ByteLevel.encode(word) : String(word)) }
    }

    /// Text of `ids` as the ByteLevel decoder produces it (invalid UTF-8 becomes U+FFFD).
    public func decode(_ ids: [Int], skipSpecialTokens: Bool = false) throws -> String {
        var bytes: [UInt8] = []
        for id in ids { bytes += try self.bytes(of: id, skipSpecialTokens: skipSpecialTokens) }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The bytes token `id` contributes to decoded text.
    func bytes(of id: Int, skipSpecialTokens: Bool) throws -> [UInt8] {
        if let added = addedTokens[id] {
            return skipSpecialTokens && added.special ? [] : ByteLevel.bytes(of: added.content)
        }
        guard let token = model.tokens[id] else { throw TokenizerError.unknownTokenID(id, vocabulary: vocabularySize) }
        return ByteLevel.bytes(of: token)
    }
}
