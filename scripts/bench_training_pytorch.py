#!/usr/bin/env python3
"""Training throughput of `deepseek train` against PyTorch on the same model and machine.

Both train the bundled model's architecture (models/kjv-small/config.json, from fresh weights) on the
same text with the same shape of step (8 sequences of 256 tokens), FP32, AdamW, on N threads:
PyTorch runs transformers' DeepseekV3ForCausalLM (forward, cross-entropy, backward, clip, AdamW step);
this project runs `deepseek train` for the same number of steps. Prints the median tokens/s of the steps
after the first two, for each, in one run.

Usage: python3 scripts/bench_training_pytorch.py [--threads 2] [--steps 12] [--data FILE]
Needs: torch, transformers; the built CLI (swift build -c release -Xswiftc -enable-testing).
"""
import argparse
import csv
import json
import os
import statistics
import subprocess
import tempfile
import time

import torch
from transformers import DeepseekV3Config, DeepseekV3ForCausalLM
from tokenizers import Tokenizer

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
MODEL = os.path.join(ROOT, "models", "kjv-small")
DEEPSEEK = os.environ.get("DEEPSEEK", os.path.join(ROOT, ".build", "release", "deepseek"))
SEQUENCES, LENGTH = 8, 256


def pytorch(threads, steps, ids):
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    with open(os.path.join(MODEL, "config.json")) as f:
        config = DeepseekV3Config(**json.load(f))
    model = DeepseekV3ForCausalLM(config).float().train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3, betas=(0.9, 0.95), weight_decay=0.1)
    window = SEQUENCES * (LENGTH + 1)
    rates = []
    for step in range(steps):
        start = (step * window) % (len(ids) - window)
        batch = torch.tensor(ids[start:start + window]).view(SEQUENCES, LENGTH + 1)
        began = time.perf_counter()
        logits = model(input_ids=batch[:, :-1]).logits
        loss = torch.nn.functional.cross_entropy(logits.reshape(-1, config.vocab_size), batch[:, 1:].reshape(-1))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        rates.append(SEQUENCES * LENGTH / (time.perf_counter() - began))
    return statistics.median(rates[2:]), sum(p.numel() for p in model.parameters())


def ours(threads, steps, data):
    with tempfile.TemporaryDirectory() as out:
        subprocess.run([DEEPSEEK, "train", "--config", os.path.join(MODEL, "config.json"), "--tokenizer", MODEL,
                        "--data", data, "--out", out, "--steps", str(steps), "--sequence-length", str(LENGTH),
                        "--batch-sequences", str(SEQUENCES), "--eval-every", "0", "--eval-windows", "1",
                        "--save-every", "0", "--threads", str(threads)], check=True, capture_output=True)
        with open(os.path.join(out, "metrics.csv")) as f:
            rates = [float(row["tokens_per_second"]) for row in csv.DictReader(f)]
    return statistics.median(rates[2:])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--steps", type=int, default=12)
    parser.add_argument("--data", default=None, help="training text (default: the KJV text from Debian's bible-kjv)")
    args = parser.parse_args()
    data = args.data
    if data is None:
        data = os.path.join(tempfile.gettempdir(), "kjv-bench.txt")
        text = subprocess.run(["bible", "-l0", "Gen1:1-Rev22:21"], capture_output=True, text=True, check=True).stdout
        with open(data, "w") as f:
            f.write(text)
    ids = Tokenizer.from_file(os.path.join(MODEL, "tokenizer.json")).encode(open(data).read()).ids
    torch_rate, parameters = pytorch(args.threads, args.steps, ids)
    our_rate = ours(args.threads, args.steps, data)
    print(f"model: {parameters / 1e6:.2f}M parameters, {SEQUENCES}x{LENGTH} tokens per step, FP32, {args.threads} threads, "
          f"median of steps 3-{args.steps}")
    print(f"PyTorch {torch.__version__} (transformers DeepseekV3ForCausalLM): {torch_rate:8.0f} tokens/s")
    print(f"deepseek train:                                  {our_rate:8.0f} tokens/s  ({our_rate / torch_rate:.2f}x)")


if __name__ == "__main__":
    main()
