import JSON

/// A Hugging Face chat template (Jinja, from tokenizer_config.json), rendered as transformers'
/// `apply_chat_template` renders it: with `trim_blocks` and `lstrip_blocks`, the messages, the
/// special tokens as `bos_token` / `eos_token`, `add_generation_prompt`, and optional tools.
public struct ChatTemplate: Sendable {
    let nodes: [TemplateParser.Node]

    public init(_ source: String) throws {
        nodes = try TemplateParser.parse(source)
    }

    /// Renders `messages` (OpenAI-style objects: role, content, tool_calls, …).
    public func render(messages: [JSONValue], addGenerationPrompt: Bool, bosToken: String?, eosToken: String?,
                       tools: [JSONValue]? = nil, extra: [String: JSONValue] = [:]) throws -> String {
        var globals: [String: TemplateValue] = [
            "messages": .array(messages.map(TemplateValue.init)),
            "add_generation_prompt": .bool(addGenerationPrompt),
            "bos_token": bosToken.map { .string($0) } ?? .undefined("bos_token"),
            "eos_token": eosToken.map { .string($0) } ?? .undefined("eos_token"),
        ]
        if let tools { globals["tools"] = .array(tools.map(TemplateValue.init)) }
        for (key, value) in extra { globals[key] = TemplateValue(value) }
        var renderer = TemplateRenderer(globals: globals)
        try renderer.render(nodes)
        return renderer.output
    }
}

extension Tokenizer {
    /// The chat prompt for `messages` using this tokenizer's chat template.
    public func applyChatTemplate(messages: [JSONValue], addGenerationPrompt: Bool, tools: [JSONValue]? = nil) throws -> String {
        guard let source = chatTemplate else { throw TemplateError.runtime("tokenizer_config.json has no chat_template") }
        return try ChatTemplate(source).render(messages: messages, addGenerationPrompt: addGenerationPrompt,
                                               bosToken: bosToken, eosToken: eosToken, tools: tools)
    }
}
