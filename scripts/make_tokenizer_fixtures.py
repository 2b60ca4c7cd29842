#!/usr/bin/env python3
"""Regenerates Tests/Fixtures/tokenizer/*: a small byte-level BPE tokenizer in the DeepSeek-V3
configuration, and the ids, texts and chat prompts Hugging Face produces with it.

  tokenizer.json          trained here with the `tokenizers` library: DeepSeek-V3's three
                          isolating Split pre-tokenizers (digit runs of 1-3, CJK runs, the main
                          pattern), ByteLevel without its own regex, ByteLevel decoder, the
                          special and added tokens of DeepSeek-V3, a BOS post-processor
  tokenizer_config.json   bos/eos, add_bos_token, and DeepSeek-V3's chat template
  cases.json              [{text, ids, ids_no_special, decoded, decoded_skip_special}] from transformers
  chat_cases.json         [{messages, add_generation_prompt, text, ids}] from apply_chat_template

Training text: the licence texts Debian ships in /usr/share/common-licenses plus generated
digits, CJK and emoji, so that merges exist for every class the tests exercise.

Usage: python3 scripts/make_tokenizer_fixtures.py   (needs tokenizers, transformers, jinja2)
"""
import glob
import json
import os
import random

from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, pre_tokenizers, processors, trainers
from transformers import AutoTokenizer

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
OUT = os.path.join(ROOT, "Tests", "Fixtures", "tokenizer")
VOCAB = 512

BOS, EOS, PAD = "<｜begin▁of▁sentence｜>", "<｜end▁of▁sentence｜>", "<｜▁pad▁｜>"
# DeepSeek-V3 marks these added tokens non-special: they survive skip_special_tokens.
ADDED = ["<｜User｜>", "<｜Assistant｜>", "<think>", "</think>", "<｜tool▁calls▁begin｜>", "<｜tool▁calls▁end｜>",
         "<｜tool▁call▁begin｜>", "<｜tool▁call▁end｜>", "<｜tool▁outputs▁begin｜>", "<｜tool▁outputs▁end｜>",
         "<｜tool▁output▁begin｜>", "<｜tool▁output▁end｜>", "<｜tool▁sep｜>"]

MAIN_PATTERN = ("[!\"#$%&'()*+,\\-./:;<=>?@\\[\\\\\\]^_`{|}~][A-Za-z]+|[^\r\n\\p{L}\\p{P}\\p{S}]?[\\p{L}\\p{M}]+|"
                " ?[\\p{P}\\p{S}]+[\r\n]*|\\s*[\r\n]+|\\s+(?!\\S)|\\s+")

# DeepSeek-V3's chat template (tokenizer_config.json of deepseek-ai/DeepSeek-V3-0324).
CHAT_TEMPLATE = (
    "{% if not add_generation_prompt is defined %}{% set add_generation_prompt = false %}{% endif %}"
    "{% set ns = namespace(is_first=false, is_tool=false, is_output_first=true, system_prompt='', is_first_sp=true) %}"
    "{%- for message in messages %}{%- if message['role'] == 'system' %}{%- if ns.is_first_sp %}"
    "{% set ns.system_prompt = ns.system_prompt + message['content'] %}{% set ns.is_first_sp = false %}"
    "{%- else %}{% set ns.system_prompt = ns.system_prompt + '\\n\\n' + message['content'] %}{%- endif %}"
    "{%- endif %}{%- endfor %}{{ bos_token }}{{ ns.system_prompt }}"
    "{%- for message in messages %}{%- if message['role'] == 'user' %}{%- set ns.is_tool = false -%}"
    "{{'<｜User｜>' + message['content']}}{%- endif %}"
    "{%- if message['role'] == 'assistant' and 'tool_calls' in message %}{%- set ns.is_tool = false -%}"
    "{%- for tool in message['tool_calls'] %}{%- if not ns.is_first %}{%- if message['content'] is none %}"
    "{{'<｜Assistant｜><｜tool▁calls▁begin｜><｜tool▁call▁begin｜>' + tool['type'] + '<｜tool▁sep｜>' + tool['function']['name'] + '\\n' + '```json' + '\\n' + tool['function']['arguments'] + '\\n' + '```' + '<｜tool▁call▁end｜>'}}"
    "{%- else %}"
    "{{'<｜Assistant｜>' + message['content'] + '<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>' + tool['type'] + '<｜tool▁sep｜>' + tool['function']['name'] + '\\n' + '```json' + '\\n' + tool['function']['arguments'] + '\\n' + '```' + '<｜tool▁call▁end｜>'}}"
    "{%- endif %}{%- set ns.is_first = true -%}{%- else %}"
    "{{'\\n' + '<｜tool▁call▁begin｜>' + tool['type'] + '<｜tool▁sep｜>' + tool['function']['name'] + '\\n' + '```json' + '\\n' + tool['function']['arguments'] + '\\n' + '```' + '<｜tool▁call▁end｜>'}}"
    "{%- endif %}{%- endfor %}{{'<｜tool▁calls▁end｜><｜end▁of▁sentence｜>'}}{%- endif %}"
    "{%- if message['role'] == 'assistant' and 'tool_calls' not in message %}{%- if ns.is_tool %}"
    "{{'<｜tool▁outputs▁end｜>' + message['content'] + '<｜end▁of▁sentence｜>'}}{%- set ns.is_tool = false -%}"
    "{%- else %}{% set content = message['content'] %}{% if '</think>' in content %}"
    "{% set content = content.split('</think>')[-1] %}{% endif %}"
    "{{'<｜Assistant｜>' + content + '<｜end▁of▁sentence｜>'}}{%- endif %}{%- endif %}"
    "{%- if message['role'] == 'tool' %}{%- set ns.is_tool = true -%}{%- if ns.is_output_first %}"
    "{{'<｜tool▁outputs▁begin｜><｜tool▁output▁begin｜>' + message['content'] + '<｜tool▁output▁end｜>'}}"
    "{%- set ns.is_output_first = false %}{%- else %}"
    "{{'<｜tool▁output▁begin｜>' + message['content'] + '<｜tool▁output▁end｜>'}}{%- endif %}{%- endif %}"
    "{%- endfor -%}{% if ns.is_tool %}{{'<｜tool▁outputs▁end｜>'}}{% endif %}"
    "{% if add_generation_prompt and not ns.is_tool %}{{'<｜Assistant｜>'}}{% endif %}"
)


def training_text():
    texts = []
    for path in sorted(glob.glob("/usr/share/common-licenses/*")):
        if os.path.isfile(path):
            with open(path, encoding="utf-8", errors="ignore") as f:
                texts.append(f.read())
    rng = random.Random(7)
    cjk = "的一是不了人我在有他这为之大来以个中上们到说国和地也子时道出而要于就下得可你年生自会那后能对着事其里所去行過ひらがなカタカナ漢字"
    for _ in range(400):
        texts.append("".join(rng.choice(cjk) for _ in range(rng.randint(2, 12))))
        texts.append(str(rng.randint(0, 10 ** rng.randint(1, 12))))
        texts.append("def f(x):\n    return x * %d  # comment\n" % rng.randint(0, 999))
        texts.append("emoji 😀 👍🏽 👨‍👩‍👧 café naïve")
    return texts


def train():
    tok = Tokenizer(models.BPE(byte_fallback=False, fuse_unk=False))
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex("\\p{N}{1,3}"), behavior="isolated", invert=False),
        pre_tokenizers.Split(Regex("[一-龥\u3040-ゟ゠-ヿ]+"), behavior="isolated", invert=False),
        pre_tokenizers.Split(Regex(MAIN_PATTERN), behavior="isolated", invert=False),
        pre_tokenizers.ByteLevel(add_prefix_space=False, trim_offsets=True, use_regex=False),
    ])
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=VOCAB - len(ADDED), special_tokens=[BOS, EOS, PAD],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train_from_iterator(training_text(), trainer)
    tok.add_tokens([AddedToken(t, special=False, normalized=False) for t in ADDED])
    bos_id = tok.token_to_id(BOS)
    tok.post_processor = processors.TemplateProcessing(
        single=f"{BOS}:0 $A:0", pair=f"{BOS}:0 $A:0 {BOS}:1 $B:1", special_tokens=[(BOS, bos_id)])
    return tok


def cases():
    rng = random.Random(11)
    fixed = [
        "", " ", "  ", "\n", "\n\n\n", "\t", " \t \n ", "Hello, world!", "Hello world", " Hello", "hello  world",
        "The quick brown fox jumps over the lazy dog.", "It's a dog's life; isn't it?", "I'm, you're, they've, we'll, he'd",
        "don't DON'T Don't", "e.g. i.e. etc.", "3.14159", "12345678901234567890", "1,000,000", "a1b22c333d4444",
        "version 2.0.1-beta", "0x1F 0b1010 1e-9", "+-*/=<>", "((a+b)*c)", "[1, 2, 3]", "{\"key\": \"value\"}",
        "def foo(bar):\n    return bar + 1\n", "for (int i = 0; i < n; i++) {\n\tsum += i;\n}",
        "    indented line", "trailing spaces   ", "mixed \r\n line endings\r\n", "tab\tseparated\tvalues",
        "#include <stdio.h>", "https://example.com/path?q=1&r=2", "user@example.com", "C:\\Windows\\System32",
        "你好，世界！", "我爱北京天安门", "日本語のテキスト、ひらがなとカタカナ。", "中文English混合123", "한국어 텍스트",
        "Привет, мир!", "Ελληνικά γράμματα", "مرحبا بالعالم", "שלום עולם", "हिन्दी पाठ", "ภาษาไทย",
        "😀", "👍🏽", "👨‍👩‍👧‍👦", "🏳️‍🌈", "I ❤️ Swift", "emoji😀inside", "🇯🇵🇺🇸",
        "e\u0301", "cafe\u0301", "n\u0303o", "Z\u0351\u0352\u0353algo", "a\u0308\u0304", "\u0915\u094d\u0937",
        "café", "naïve résumé", "Ångström", "ﬁ ligature", "１２３ fullwidth", "①②③",
        BOS + "Hello", "Hello" + EOS, "<｜User｜>Hi<｜Assistant｜>Hello!" + EOS, "text <think>reasoning</think> answer",
        "a<｜tool▁sep｜>b", "<｜begin▁of▁sentence｜><｜begin▁of▁sentence｜>", "<not a token>", "<｜User", "｜>",
        "...", "!!!", "?!?!", "---", "___", "~~~", "``` code ```", "'quoted'", "\"double\"", "a--b", "snake_case_name",
        "camelCaseName", "PascalCase", "SCREAMING_CASE", "kebab-case-name", "$100.00", "50%", "#hashtag", "@mention",
        "x" * 50, " " * 17, "\n" * 5 + "x", "ab" * 30, "1" * 40, "中" * 20,
    ]
    words = "the of and to in is was for on with as by at from that this which be or are an not have".split()
    generated = []
    for _ in range(60):
        n = rng.randint(1, 12)
        generated.append(" ".join(rng.choice(words) for _ in range(n)) + rng.choice(["", ".", "!", "?", "\n", "  "]))
    for _ in range(20):
        generated.append("".join(rng.choice("abc XYZ 0123 中文 ,.\n\t😀é") for _ in range(rng.randint(1, 30))))
    return fixed + generated


CONVERSATIONS = [
    ([{"role": "user", "content": "Hello"}], True),
    ([{"role": "user", "content": "Hello"}], False),
    ([{"role": "system", "content": "You are helpful."}, {"role": "user", "content": "Hi"}], True),
    ([{"role": "system", "content": "A"}, {"role": "system", "content": "B"}, {"role": "user", "content": "Hi"}], True),
    ([{"role": "system", "content": "Be brief."}, {"role": "user", "content": "2+2?"},
      {"role": "assistant", "content": "4"}, {"role": "user", "content": "And 3+3?"}], True),
    ([{"role": "user", "content": "q"}, {"role": "assistant", "content": "<think>hmm</think>answer"}], False),
    ([{"role": "user", "content": "Weather in Paris?"},
      {"role": "assistant", "content": "", "tool_calls": [
          {"type": "function", "function": {"name": "get_weather", "arguments": "{\"city\": \"Paris\"}"}}]},
      {"role": "tool", "content": "{\"temp\": 21}"},
      {"role": "assistant", "content": "It is 21 degrees."}], True),
    ([{"role": "user", "content": "Two calls"},
      {"role": "assistant", "content": "Let me check.", "tool_calls": [
          {"type": "function", "function": {"name": "a", "arguments": "{}"}},
          {"type": "function", "function": {"name": "b", "arguments": "{\"x\": 1}"}}]},
      {"role": "tool", "content": "ra"}, {"role": "tool", "content": "rb"}], True),
    ([{"role": "user", "content": "多语言 😀\nline two"}], True),
]
# transformers drops keys whose value is None before rendering, so the template's
# `content is none` branch cannot be exercised through it; the Swift tests cover it directly.


def main():
    os.makedirs(OUT, exist_ok=True)
    tok = train()
    tok.save(os.path.join(OUT, "tokenizer.json"))
    with open(os.path.join(OUT, "tokenizer_config.json"), "w") as f:
        json.dump({
            "add_bos_token": True, "add_eos_token": False, "bos_token": BOS, "eos_token": EOS, "pad_token": PAD,
            "clean_up_tokenization_spaces": False, "legacy": True, "model_max_length": 16384, "unk_token": None,
            "tokenizer_class": "LlamaTokenizerFast", "chat_template": CHAT_TEMPLATE,
        }, f, ensure_ascii=False, indent=2)
    hf = AutoTokenizer.from_pretrained(OUT)
    records = []
    for text in cases():
        ids = hf.encode(text)
        records.append(dict(text=text, ids=ids, ids_no_special=hf.encode(text, add_special_tokens=False),
                            decoded=hf.decode(ids), decoded_skip_special=hf.decode(ids, skip_special_tokens=True)))
    with open(os.path.join(OUT, "cases.json"), "w") as f:
        json.dump(records, f, ensure_ascii=False, indent=0)
    chats = []
    for messages, generation in CONVERSATIONS:
        text = hf.apply_chat_template(messages, tokenize=False, add_generation_prompt=generation)
        chats.append(dict(messages=messages, add_generation_prompt=generation, text=text,
                          ids=hf.encode(text, add_special_tokens=False)))
    with open(os.path.join(OUT, "chat_cases.json"), "w") as f:
        json.dump(chats, f, ensure_ascii=False, indent=1)
    print(f"vocab {tok.get_vocab_size()}, {len(records)} cases, {len(chats)} chats")


if __name__ == "__main__":
    main()
