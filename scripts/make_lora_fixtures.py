#!/usr/bin/env python3
"""Regenerates Tests/Fixtures/lora/v3-yarn: a LoRA adapter made by PEFT for the v3-yarn fixture model
and the logits PEFT's adapted model gives, which `deepseek logits --lora` must reproduce.

  adapter_config.json, adapter_model.safetensors   PEFT's save_pretrained (r 4, alpha 8, random A and B)
  expected.json                                     prompt ids and the adapted model's logits at every position

Usage: python3 scripts/make_lora_fixtures.py      (needs torch, transformers, peft)
"""
import json
import os

import torch
from peft import LoraConfig, get_peft_model
from transformers import AutoModelForCausalLM

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
MODEL = os.path.join(ROOT, "Tests", "Fixtures", "models", "v3-yarn")
OUT = os.path.join(ROOT, "Tests", "Fixtures", "lora", "v3-yarn")
PROMPT = [0, 17, 240, 3, 99, 412, 8, 77, 301, 5]


def main():
    torch.manual_seed(0)
    base = AutoModelForCausalLM.from_pretrained(MODEL, attn_implementation="eager").float().eval()
    config = LoraConfig(r=4, lora_alpha=8, lora_dropout=0.0, init_lora_weights=False,
                        target_modules=["q_a_proj", "q_b_proj", "kv_a_proj_with_mqa", "kv_b_proj", "o_proj"])
    model = get_peft_model(base, config).eval()
    with torch.no_grad():
        logits = model(torch.tensor([PROMPT])).logits[0]
    model.save_pretrained(OUT)
    for extra in ("README.md",):
        path = os.path.join(OUT, extra)
        if os.path.exists(path):
            os.remove(path)
    with open(os.path.join(OUT, "expected.json"), "w") as f:
        json.dump({"prompt_ids": PROMPT, "logits": [[round(v, 6) for v in row] for row in logits.tolist()]}, f)
    print(f"wrote {OUT}: logits {tuple(logits.shape)}")


if __name__ == "__main__":
    main()
