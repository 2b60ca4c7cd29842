#!/usr/bin/env python3
"""Regenerates Tests/Fixtures/models/<name>/gradients.safetensors: every parameter's gradient of the mean
next-token cross-entropy, computed by PyTorch autograd on transformers' DeepseekV3ForCausalLM /
DeepseekV2ForCausalLM, for the Swift trainer's gradients to be compared against.

The model is the fixture checkpoint itself (run scripts/make_model_fixtures.py first), widened to float64
(transformers still takes the router logits, the RMSNorm statistics and the attention softmax in float32).
The batch is two sequences: the fixture's first (up to) 13 prompt tokens and the same reversed; each
predicts its tokens 1... from the ones before, the loss is the mean over all those targets (24, or 22 for a
12-token prompt), and the gradients are stored in float32 under
the hub names (one tensor per expert projection); `gradients.json` holds the sequences and the loss.

Usage: python3 scripts/make_gradient_fixtures.py   (needs torch, transformers, safetensors)
"""
import json
import os
import sys

import torch
from safetensors.torch import save_file
from transformers import DeepseekV2ForCausalLM, DeepseekV3ForCausalLM

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_model_fixtures import OUT, hub_tensors  # noqa: E402

NAMES = ["v3-yarn", "v3-noqlora", "v2-greedy"]


def make(name):
    folder = os.path.join(OUT, name)
    with open(os.path.join(folder, "config.json")) as f:
        config = json.load(f)
    with open(os.path.join(folder, "reference.json")) as f:
        prompt = json.load(f)["prompt_ids"]
    cls = DeepseekV2ForCausalLM if config["model_type"] == "deepseek_v2" else DeepseekV3ForCausalLM
    model = cls.from_pretrained(folder, attn_implementation="eager", experts_implementation="eager").double()
    model.train()
    first = prompt[:13]
    sequences = [first, first[::-1]]
    ids = torch.tensor(sequences)
    loss = model(input_ids=ids, labels=ids).loss
    loss.backward()
    grads = {n: p.grad.detach().float() for n, p in model.named_parameters() if p.grad is not None}
    stored = {k: v.contiguous() for k, v in hub_tensors(grads, config).items()}
    save_file(stored, os.path.join(folder, "gradients.safetensors"), metadata={"format": "pt"})
    with open(os.path.join(folder, "gradients.json"), "w") as f:
        json.dump(dict(sequences=sequences, loss=loss.item()), f)
    print(f"{name}: loss {loss.item():.6f}, {len(stored)} gradients")


def main():
    for name in sys.argv[1:] or NAMES:
        make(name)


if __name__ == "__main__":
    main()
