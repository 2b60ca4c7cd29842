#!/usr/bin/env python3
"""Regenerates Tests/Fixtures/tokenizer-trained/*, which check `deepseek tokenizer train`:

  corpus.txt              the training text: Tests/Fixtures/text/sample.txt, every text of
                          Tests/Fixtures/tokenizer/cases.json (CJK, digits, emoji, code), and
                          Genesis 1-3 of the King James Bible (public domain; Debian's bible-kjv)
  tokenizer.json,         what `deepseek tokenizer train --vocab-size 700` writes for it; the
  tokenizer_config.json   Swift test retrains and expects these bytes exactly
  cases.json              Hugging Face `tokenizers`' ids for each case text and for the corpus,
                          which the Swift tokenizer must reproduce exactly

Usage: python3 scripts/make_tokenizer_training_fixtures.py
Needs: tokenizers; the built CLI (swift build -c release -Xswiftc -enable-testing); bible-kjv.
"""
import json
import os
import subprocess

from tokenizers import Tokenizer

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
OUT = os.path.join(ROOT, "Tests", "Fixtures", "tokenizer-trained")
DEEPSEEK = os.environ.get("DEEPSEEK", os.path.join(ROOT, ".build", "release", "deepseek"))
VOCAB = 700


def corpus():
    with open(os.path.join(ROOT, "Tests", "Fixtures", "text", "sample.txt"), encoding="utf-8") as f:
        parts = [f.read()]
    with open(os.path.join(ROOT, "Tests", "Fixtures", "tokenizer", "cases.json"), encoding="utf-8") as f:
        parts += [case["text"] for case in json.load(f)]
    parts.append(subprocess.run(["bible", "-l0", "Gen1:1-3:24"], capture_output=True, text=True, check=True).stdout)
    return "\n".join(parts)


def main():
    os.makedirs(OUT, exist_ok=True)
    text = corpus()
    path = os.path.join(OUT, "corpus.txt")
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    subprocess.run([DEEPSEEK, "tokenizer", "train", "--data", path, "--vocab-size", str(VOCAB), "--out", OUT], check=True)
    tok = Tokenizer.from_file(os.path.join(OUT, "tokenizer.json"))
    with open(os.path.join(ROOT, "Tests", "Fixtures", "tokenizer", "cases.json"), encoding="utf-8") as f:
        texts = [case["text"] for case in json.load(f)]
    records = [dict(text=t, ids=tok.encode(t).ids) for t in texts + [text]]
    with open(os.path.join(OUT, "cases.json"), "w", encoding="utf-8") as f:
        json.dump(records, f, ensure_ascii=False, indent=0)
    print(f"vocab {tok.get_vocab_size()}, {len(records)} cases")


if __name__ == "__main__":
    main()
