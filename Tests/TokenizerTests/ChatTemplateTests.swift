import Foundation
import JSON
import Testing
@testable import Tokenizer

/// Conversations rendered by transformers' `apply_chat_template` with DeepSeek-V3's template.
@Suite struct ChatTemplateFixtureTests {
    @Test func rendersExactlyAsTransformers() throws {
        let tokenizer = try Tokenizer(directory: fixtureRoot.path)
        let cases = try JSONValue.parse(Data(contentsOf: fixtureRoot.appendingPathComponent("chat_cases.json"))).arrayValue!
        #expect(cases.count >= 9)
        for c in cases {
            let text = try tokenizer.applyChatTemplate(messages: c["messages"]!.arrayValue!,
                                                       addGenerationPrompt: c["add_generation_prompt"]!.boolValue!)
            #expect(text == c["text"]!.stringValue!)
            #expect(tokenizer.encode(text, addSpecialTokens: false) == c["ids"]!.arrayValue!.map { $0.intValue! })
        }
    }

    @Test func toolCallWithNullContentUsesTheTemplatesNoneBranch() throws {
        let tokenizer = try Tokenizer(directory: fixtureRoot.path)
        let messages = try JSONValue.parse(#"""
            [{"role": "user", "content": "Weather?"},
             {"role": "assistant", "content": null, "tool_calls": [{"type": "function", "function": {"name": "w", "arguments": "{}"}}]}]
            """#).arrayValue!
        let text = try tokenizer.applyChatTemplate(messages: messages, addGenerationPrompt: false)
        #expect(text == "<｜begin▁of▁sentence｜><｜User｜>Weather?<｜Assistant｜><｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function"
                + "<｜tool▁sep｜>w\n```json\n{}\n```<｜tool▁call▁end｜><｜tool▁calls▁end｜><｜end▁of▁sentence｜>")
    }
}

/// Jinja semantics the templates of the DeepSeek family rely on.
@Suite struct ChatTemplateTests {
    func render(_ source: String, _ messages: String = "[]", generation: Bool = false) throws -> String {
        try ChatTemplate(source).render(messages: try JSONValue.parse(messages).arrayValue!, addGenerationPrompt: generation,
                                        bosToken: "<s>", eosToken: "</s>")
    }

    @Test func loopsConditionsAndOutput() throws {
        let source = "{% for m in messages %}{% if m.role == 'user' %}U:{{ m['content'] }}{% elif m.role == 'assistant' %}A:{{ m.content }}{% else %}?{% endif %}{% if not loop.last %}|{% endif %}{% endfor %}"
        #expect(try render(source, #"[{"role":"user","content":"hi"},{"role":"assistant","content":"yo"},{"role":"x"}]"#) == "U:hi|A:yo|?")
    }

    @Test func setInsideLoopDoesNotLeakButNamespaceDoes() throws {
        let source = "{% set x = 1 %}{% set ns = namespace(n=0) %}{% for i in [1,2,3] %}{% set x = i %}{% set ns.n = ns.n + i %}{% endfor %}{{ x }} {{ ns.n }}"
        #expect(try render(source) == "1 6")
    }

    @Test func whitespaceControlAndTrimBlocks() throws {
        #expect(try render("a  {%- if true -%}  b  {%- endif %}  c") == "ab  c")
        #expect(try render("{% if true %}\nx\n{% endif %}\ny") == "x\ny")
        #expect(try render("line\n    {% if true %}x{% endif %}") == "line\nx")
    }

    @Test func filtersTestsAndOperators() throws {
        #expect(try render("{{ {'b': [1, 'é'], 'a': none} | tojson }}") == #"{"b": [1, "é"], "a": null}"#)
        #expect(try render("{{ [1,2,3] | length }} {{ ' x ' | trim }} {{ 'a,b' ~ 1 }} {{ 7 // 2 }} {{ 7 % 3 }}") == "3 x a,b1 3 1")
        #expect(try render("{{ 'x' if y is defined else 'z' }} {{ none is none }} {{ 'ab' in 'cabd' }} {{ 3 not in [1,2] }}") == "z True True True")
        #expect(try render("{{ 'a</think>b'.split('</think>')[-1] }} {{ messages[1:] | length }}", #"[{"a":1},{"b":2}]"#) == "b 1")
        #expect(try render("{{ 'Hi'.startswith('H') and 'Hi'.endswith('x') }} {{ [1,2] + [3] }}") == "False [1, 2, 3]")
        #expect(try render("{% for k, v in {'a': 1, 'b': 2}.items() %}{{ k }}={{ v }};{% endfor %}") == "a=1;b=2;")
        #expect(try render("{{ bos_token }}{{ eos_token }}{% if add_generation_prompt %}G{% endif %}", generation: true) == "<s></s>G")
    }

    @Test func errorsAreOneLine() {
        #expect(throws: TemplateError.raised("only user and assistant")) { try render("{{ raise_exception('only user and assistant') }}") }
        #expect(throws: TemplateError.self) { try render("{% if x %}") }
        #expect(throws: TemplateError.self) { try render("{{ 'a' + 1 }}") }
        #expect(throws: TemplateError.self) { try render("{{ x | nosuchfilter }}") }
        #expect(throws: TemplateError.self) { try render("{% macro m() %}{% endmacro %}") }
    }
}
