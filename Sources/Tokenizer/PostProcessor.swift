import JSON

/// What `encode(addSpecialTokens: true)` adds around a single sequence: tokenizer.json's
/// `TemplateProcessing` (or a `Sequence` containing one), else tokenizer_config.json's
/// `add_bos_token` / `add_eos_token`.
struct PostProcessor: Sendable {
    let prefix: [Int]
    let suffix: [Int]

    init(json: JSONValue, path: String, fallbackBOS: Int?, fallbackEOS: Int?) throws {
        if let template = try Self.template(in: json, path: path) {
            (prefix, suffix) = template
        } else {
            prefix = fallbackBOS.map { [$0] } ?? []
            suffix = fallbackEOS.map { [$0] } ?? []
        }
    }

    private static func template(in json: JSONValue, path: String) throws -> ([Int], [Int])? {
        switch json["type"]?.stringValue {
        case "TemplateProcessing":
            var prefix: [Int] = [], suffix: [Int] = []
            var seenSequence = false
            for piece in json["single"]?.arrayValue ?? [] {
                if piece["Sequence"] != nil { seenSequence = true; continue }
                guard let name = piece["SpecialToken"]?["id"]?.stringValue,
                      let ids = json["special_tokens"]?[name]?["ids"]?.arrayValue?.compactMap(\.intValue) else {
                    throw TokenizerError.invalidFile(path: path, detail: "post_processor template names an unknown special token")
                }
                if seenSequence { suffix += ids } else { prefix += ids }
            }
            return (prefix, suffix)
        case "Sequence":
            for item in json["processors"]?.arrayValue ?? [] {
                if let found = try template(in: item, path: path) { return found }
            }
            return nil
        default:
            return nil
        }
    }

    func apply(_ ids: [Int]) -> [Int] { prefix + ids + suffix }
}
