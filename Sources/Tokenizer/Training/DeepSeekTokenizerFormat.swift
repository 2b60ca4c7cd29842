import JSON

/// The tokenizer configuration DeepSeek-V3 ships, for tokenizers this project trains: the same
/// special and added tokens, the three isolating `Split` pre-tokenizers (digit runs of one to three,
/// CJK runs, the main word pattern) followed by byte mapping, a leading BOS, and the chat template.
public enum DeepSeekTokenizerFormat {
    public static let bos = "<｜begin▁of▁sentence｜>"
    public static let eos = "<｜end▁of▁sentence｜>"
    public static let pad = "<｜▁pad▁｜>"
    /// Special tokens, with the first ids.
    public static let specialTokens = [bos, eos, pad]
    /// DeepSeek-V3's non-special added tokens (they survive `skip_special_tokens`), with the last ids.
    public static let addedTokens = [
        "<｜User｜>", "<｜Assistant｜>", "<think>", "</think>", "<｜tool▁calls▁begin｜>", "<｜tool▁calls▁end｜>",
        "<｜tool▁call▁begin｜>", "<｜tool▁call▁end｜>", "<｜tool▁outputs▁begin｜>", "<｜tool▁outputs▁end｜>",
        "<｜tool▁output▁begin｜>", "<｜tool▁output▁end｜>", "<｜tool▁sep｜>",
    ]

    static let mainPattern = "[!\"#$%&'()*+,\\-./:;<=>?@\\[\\\\\\]^_`{|}~][A-Za-z]+|[^\r\n\\p{L}\\p{P}\\p{S}]?[\\p{L}\\p{M}]+|"
        + " ?[\\p{P}\\p{S}]+[\r\n]*|\\s*[\r\n]+|\\s+(?!\\S)|\\s+"

    /// The isolating `Split` patterns, in order.
    static let splitPatterns = ["\\p{N}{1,3}", "[一-龥\u{3040}-ゟ゠-ヿ]+", mainPattern]

    /// tokenizer.json's `pre_tokenizer`.
    static let preTokenizerJSON: JSONValue = .object(JSONObject([
        ("type", .string("Sequence")),
        ("pretokenizers", .array(splitPatterns.map { pattern in
            .object(JSONObject([("type", .string("Split")), ("pattern", .object(JSONObject([("Regex", .string(pattern))]))),
                                ("behavior", .string("Isolated")), ("invert", .bool(false))]))
        } + [.object(JSONObject([("type", .string("ByteLevel")), ("add_prefix_space", .bool(false)),
                                 ("trim_offsets", .bool(true)), ("use_regex", .bool(false))]))])),
    ]))

    /// The pre-tokenizer pipeline that JSON describes.
    static func preTokenizer() -> PreTokenizer {
        .sequence(splitPatterns.map { .split(PatternRegex(constant: $0), .isolated) } + [.byteLevel(addPrefixSpace: false, useRegex: false)])
    }

    /// tokenizer.json for a byte-level BPE with `tokens` (ids 0..<count in order, specials first,
    /// added tokens last) and `merges` (pairs of token strings).
    static func tokenizerJSON(tokens: [String], merges: [(String, String)]) -> JSONValue {
        let added = Set(specialTokens + addedTokens)
        let addedEntries: [JSONValue] = tokens.enumerated().filter { added.contains($0.element) }.map { id, content in
            .object(JSONObject([
                ("id", .int(id)), ("content", .string(content)), ("single_word", .bool(false)), ("lstrip", .bool(false)),
                ("rstrip", .bool(false)), ("normalized", .bool(false)), ("special", .bool(specialTokens.contains(content))),
            ]))
        }
        let vocab = JSONObject(tokens.enumerated().filter { !addedTokens.contains($0.element) }.map { ($0.element, JSONValue.int($0.offset)) })
        let bosEntry = JSONValue.object(JSONObject([("SpecialToken", .object(JSONObject([("id", .string(bos)), ("type_id", .int(0))])))]))
        func sequence(_ name: String, _ type: Int) -> JSONValue {
            .object(JSONObject([("Sequence", .object(JSONObject([("id", .string(name)), ("type_id", .int(type))])))]))
        }
        let bosSecond = JSONValue.object(JSONObject([("SpecialToken", .object(JSONObject([("id", .string(bos)), ("type_id", .int(1))])))]))
        let postProcessor = JSONValue.object(JSONObject([
            ("type", .string("TemplateProcessing")),
            ("single", .array([bosEntry, sequence("A", 0)])),
            ("pair", .array([bosEntry, sequence("A", 0), bosSecond, sequence("B", 1)])),
            ("special_tokens", .object(JSONObject([(bos, .object(JSONObject([
                ("id", .string(bos)), ("ids", .array([.int(tokens.firstIndex(of: bos)!)])), ("tokens", .array([.string(bos)])),
            ])))]))),
        ]))
        return .object(JSONObject([
            ("version", .string("1.0")), ("truncation", .null), ("padding", .null),
            ("added_tokens", .array(addedEntries)),
            ("normalizer", .null),
            ("pre_tokenizer", preTokenizerJSON),
            ("post_processor", postProcessor),
            ("decoder", .object(JSONObject([("type", .string("ByteLevel")), ("add_prefix_space", .bool(true)),
                                            ("trim_offsets", .bool(true)), ("use_regex", .bool(true))]))),
            ("model", .object(JSONObject([
                ("type", .string("BPE")), ("dropout", .null), ("unk_token", .null), ("continuing_subword_prefix", .null),
                ("end_of_word_suffix", .null), ("fuse_unk", .bool(false)), ("byte_fallback", .bool(false)),
                ("ignore_merges", .bool(false)), ("vocab", .object(vocab)),
                ("merges", .array(merges.map { .array([.string($0.0), .string($0.1)]) })),
            ]))),
        ]))
    }

    /// tokenizer_config.json: BOS added, the special tokens named, and DeepSeek-V3's chat template.
    static func configJSON(maxLength: Int) -> JSONValue {
        .object(JSONObject([
            ("add_bos_token", .bool(true)), ("add_eos_token", .bool(false)),
            ("bos_token", .string(bos)), ("eos_token", .string(eos)), ("pad_token", .string(pad)),
            ("clean_up_tokenization_spaces", .bool(false)), ("legacy", .bool(true)), ("model_max_length", .int(maxLength)),
            ("unk_token", .null), ("tokenizer_class", .string("LlamaTokenizerFast")), ("chat_template", .string(chatTemplate)),
        ]))
    }

    /// DeepSeek-V3's chat template (tokenizer_config.json of deepseek-ai/DeepSeek-V3-0324).
    public static let chatTemplate = [
        "{% if not add_generation_prompt is defined %}{% set add_generation_prompt = false %}{% endif %}",
        "{% set ns = namespace(is_first=false, is_tool=false, is_output_first=true, system_prompt='', is_first_sp=true) %}",
        "{%- for message in messages %}{%- if message['role'] == 'system' %}{%- if ns.is_first_sp %}",
        "{% set ns.system_prompt = ns.system_prompt + message['content'] %}{% set ns.is_first_sp = false %}",
        "{%- else %}{% set ns.system_prompt = ns.system_prompt + '\\n\\n' + message['content'] %}{%- endif %}",
        "{%- endif %}{%- endfor %}{{ bos_token }}{{ ns.system_prompt }}",
        "{%- for message in messages %}{%- if message['role'] == 'user' %}{%- set ns.is_tool = false -%}",
        "{{'<｜User｜>' + message['content']}}{%- endif %}",
        "{%- if message['role'] == 'assistant' and 'tool_calls' in message %}{%- set ns.is_tool = false -%}",
        "{%- for tool in message['tool_calls'] %}{%- if not ns.is_first %}{%- if message['content'] is none %}",
        "{{'<｜Assistant｜><｜tool▁calls▁begin｜><｜tool▁call▁begin｜>' + tool['type'] + '<｜tool▁sep｜>' + tool['function']['name'] + '\\n' + '```json' + '\\n' + tool['function']['arguments'] + '\\n' + '```' + '<｜tool▁call▁end｜>'}}",
        "{%- else %}",
        "{{'<｜Assistant｜>' + message['content'] + '<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>' + tool['type'] + '<｜tool▁sep｜>' + tool['function']['name'] + '\\n' + '```json' + '\\n' + tool['function']['arguments'] + '\\n' + '```' + '<｜tool▁call▁end｜>'}}",
        "{%- endif %}{%- set ns.is_first = true -%}{%- else %}",
        "{{'\\n' + '<｜tool▁call▁begin｜>' + tool['type'] + '<｜tool▁sep｜>' + tool['function']['name'] + '\\n' + '```json' + '\\n' + tool['function']['arguments'] + '\\n' + '```' + '<｜tool▁call▁end｜>'}}",
        "{%- endif %}{%- endfor %}{{'<｜tool▁calls▁end｜><｜end▁of▁sentence｜>'}}{%- endif %}",
        "{%- if message['role'] == 'assistant' and 'tool_calls' not in message %}{%- if ns.is_tool %}",
        "{{'<｜tool▁outputs▁end｜>' + message['content'] + '<｜end▁of▁sentence｜>'}}{%- set ns.is_tool = false -%}",
        "{%- else %}{% set content = message['content'] %}{% if '</think>' in content %}",
        "{% set content = content.split('</think>')[-1] %}{% endif %}",
        "{{'<｜Assistant｜>' + content + '<｜end▁of▁sentence｜>'}}{%- endif %}{%- endif %}",
        "{%- if message['role'] == 'tool' %}{%- set ns.is_tool = true -%}{%- if ns.is_output_first %}",
        "{{'<｜tool▁outputs▁begin｜><｜tool▁output▁begin｜>' + message['content'] + '<｜tool▁output▁end｜>'}}",
        "{%- set ns.is_output_first = false %}{%- else %}",
        "{{'<｜tool▁output▁begin｜>' + message['content'] + '<｜tool▁output▁end｜>'}}{%- endif %}{%- endif %}",
        "{%- endfor -%}{% if ns.is_tool %}{{'<｜tool▁outputs▁end｜>'}}{% endif %}",
        "{% if add_generation_prompt and not ns.is_tool %}{{'<｜Assistant｜>'}}{% endif %}",
    ].joined()
}
