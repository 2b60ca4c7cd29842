#!/usr/bin/env python3
"""Regenerates Tests/Fixtures/models/*: tiny random DeepSeek-V2/V3 checkpoints and the logits
Hugging Face transformers computes for them.

Each fixture folder is a complete checkpoint as the hub lays one out (config.json,
model.safetensors with per-expert tensor names, and the tokenizer files from
Tests/Fixtures/tokenizer) plus reference.json:
  prompt_ids     the input ids
  logits         fp32 logits of every prompt position, [positions][vocab]
  greedy_ids     the greedy continuation (argmax of a full recompute at every step)
  greedy_margin  the smallest top-1 minus top-2 logit gap along that continuation

The reference model runs in float32 with exactly the weights the checkpoint stores: BF16
weights are rounded to BF16 and widened; FP8 weights are the E4M3 values times their
128x128 block scale (`weight_scale_inv`), with partial edge blocks, as DeepSeek's
inference/fp8_cast_bf16.py dequantises them.

Usage: python3 scripts/make_model_fixtures.py   (needs torch, transformers, safetensors)
"""
import json
import math
import os
import shutil
import sys

import torch
from safetensors.torch import save_file
from transformers import DeepseekV2Config, DeepseekV2ForCausalLM, DeepseekV3Config, DeepseekV3ForCausalLM

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
OUT = os.path.join(ROOT, "Tests", "Fixtures", "models")
TOKENIZER = os.path.join(ROOT, "Tests", "Fixtures", "tokenizer")
VOCAB = 512

BASE_V3 = dict(
    model_type="deepseek_v3", architectures=["DeepseekV3ForCausalLM"], vocab_size=VOCAB, hidden_size=64,
    intermediate_size=96, moe_intermediate_size=32, num_hidden_layers=3, num_attention_heads=4,
    num_key_value_heads=4, q_lora_rank=48, kv_lora_rank=32, qk_nope_head_dim=16, qk_rope_head_dim=8,
    v_head_dim=16, n_routed_experts=8, n_shared_experts=1, num_experts_per_tok=3, n_group=4, topk_group=2,
    topk_method="noaux_tc", scoring_func="sigmoid", norm_topk_prob=True, routed_scaling_factor=2.5,
    first_k_dense_replace=1, moe_layer_freq=1, max_position_embeddings=256, rope_theta=10000.0,
    rope_scaling=None, rms_norm_eps=1e-6, tie_word_embeddings=False, num_nextn_predict_layers=0,
    hidden_act="silu", attention_bias=False, bos_token_id=0, eos_token_id=1, initializer_range=0.1,
    torch_dtype="float32",
)

YARN = dict(type="yarn", rope_type="yarn", factor=4.0, original_max_position_embeddings=16, beta_fast=32,
            beta_slow=1, mscale=1.0, mscale_all_dim=0.8)

FIXTURES = {
    # q-LoRA, sigmoid + bias + group-limited routing, norm_topk_prob, scaling 2.5, one dense layer,
    # YaRN with a prompt longer than original_max_position_embeddings.
    "v3-yarn": dict(config=dict(BASE_V3, rope_scaling=YARN, max_position_embeddings=64), prompt=40, dtype="f32"),
    # No q-LoRA, norm_topk_prob off, scaling != 1 and no rope scaling, MoE from layer 0, tied head.
    "v3-noqlora": dict(config=dict(BASE_V3, q_lora_rank=None, norm_topk_prob=False, routed_scaling_factor=1.7,
                                   first_k_dense_replace=0, n_group=2, topk_group=1, num_experts_per_tok=2,
                                   tie_word_embeddings=True),
                       prompt=12, dtype="f32"),
    # DeepSeek-V2: softmax scoring, greedy top-k, YaRN mscale as V2-Lite ships it, no q-LoRA.
    "v2-greedy": dict(config=dict(BASE_V3, model_type="deepseek_v2", architectures=["DeepseekV2ForCausalLM"],
                                  q_lora_rank=None, topk_method="greedy", scoring_func="softmax",
                                  norm_topk_prob=False, routed_scaling_factor=1.0, n_group=1, topk_group=1,
                                  n_shared_experts=2, num_experts_per_tok=2,
                                  rope_scaling=dict(YARN, mscale=0.707, mscale_all_dim=0.707),
                                  max_position_embeddings=64),
                      prompt=24, dtype="f32"),
    # DeepSeek-V2 with group_limited_greedy and q-LoRA, scaling 16 as full V2 ships it, attention biases.
    "v2-group-limited": dict(config=dict(BASE_V3, model_type="deepseek_v2", architectures=["DeepseekV2ForCausalLM"],
                                         topk_method="group_limited_greedy", scoring_func="softmax",
                                         norm_topk_prob=False, routed_scaling_factor=16.0, n_group=4,
                                         topk_group=2, num_experts_per_tok=3, first_k_dense_replace=1,
                                         attention_bias=True),
                             prompt=10, dtype="f32"),
    # BF16 weights (every tensor but the routing bias, as the official release stores them).
    "v3-bf16": dict(config=dict(BASE_V3, torch_dtype="bfloat16"), prompt=10, dtype="bf16"),
    # FP8 E4M3 with 128x128 block scales and the real V3 per-head sizes; hidden 192 and
    # intermediate 160 leave partial edge blocks.
    "v3-fp8-real-heads": dict(config=dict(BASE_V3, hidden_size=192, intermediate_size=160, moe_intermediate_size=48,
                                          num_hidden_layers=2, num_attention_heads=2, num_key_value_heads=2,
                                          q_lora_rank=96, kv_lora_rank=512, qk_nope_head_dim=128,
                                          qk_rope_head_dim=64, v_head_dim=128, rope_scaling=YARN,
                                          max_position_embeddings=64,
                                          torch_dtype="bfloat16",
                                          quantization_config=dict(activation_scheme="dynamic", fmt="e4m3",
                                                                   quant_method="fp8", weight_block_size=[128, 128])),
                              prompt=20, dtype="fp8"),
    # Trained, not random: two layers (one dense, one MoE) fitted to Tests/Fixtures/text/sample.txt, so
    # its next-token distributions have real margins; hidden 128 and intermediates of 128/256 exercise
    # the SIMD paths of every weight format. `deepseek quantize` / `deepseek perplexity` are measured on it.
    "v3-trained": dict(config=dict(BASE_V3, hidden_size=128, intermediate_size=256, moe_intermediate_size=128,
                                   num_hidden_layers=2, q_lora_rank=64, kv_lora_rank=64, qk_nope_head_dim=32,
                                   qk_rope_head_dim=16, v_head_dim=32, num_experts_per_tok=2,
                                   initializer_range=0.02, torch_dtype="bfloat16"),
                       prompt=16, dtype="bf16", train=dict(steps=60, batch=16, window=64, lr=3e-3)),
}

GREEDY_STEPS = 8
TEXT = os.path.join(ROOT, "Tests", "Fixtures", "text", "sample.txt")
BLOCK = 128


def build(config_dict):
    hf = {k: v for k, v in config_dict.items() if k not in ("architectures", "quantization_config", "torch_dtype")}
    if config_dict["model_type"] == "deepseek_v2":
        return DeepseekV2ForCausalLM(DeepseekV2Config(**hf))
    return DeepseekV3ForCausalLM(DeepseekV3Config(**hf))


def hub_state_dict(model, config):
    """The model's tensors under the names hub checkpoints use (one tensor per expert projection)."""
    return hub_tensors(model.state_dict(), config)


def hub_tensors(named, config):
    """Tensors keyed by transformers' parameter names (fused experts) renamed and split as hub checkpoints
    store them; used for the weights and for their gradients."""
    out = {}
    inter = config["moe_intermediate_size"]
    for name, tensor in named.items():
        tensor = tensor.detach().clone().contiguous()
        if name.endswith("mlp.experts.gate_up_proj"):
            prefix = name[: -len("gate_up_proj")]
            for e in range(tensor.shape[0]):
                out[f"{prefix}{e}.gate_proj.weight"] = tensor[e, :inter].contiguous()
                out[f"{prefix}{e}.up_proj.weight"] = tensor[e, inter:].contiguous()
        elif name.endswith("mlp.experts.down_proj"):
            prefix = name[: -len("down_proj")]
            for e in range(tensor.shape[0]):
                out[f"{prefix}{e}.down_proj.weight"] = tensor[e].contiguous()
        else:
            out[name] = tensor
    if config["tie_word_embeddings"]:
        out.pop("lm_head.weight", None)
    return out


def load_hub_state_dict(model, tensors, config):
    """Inverse of hub_state_dict: puts (possibly rounded) tensors back into the model."""
    state = model.state_dict()
    experts = config["n_routed_experts"]
    new = {}
    for name in state:
        if name.endswith("mlp.experts.gate_up_proj"):
            prefix = name[: -len("gate_up_proj")]
            new[name] = torch.stack([torch.cat([tensors[f"{prefix}{e}.gate_proj.weight"],
                                                tensors[f"{prefix}{e}.up_proj.weight"]]) for e in range(experts)])
        elif name.endswith("mlp.experts.down_proj"):
            prefix = name[: -len("down_proj")]
            new[name] = torch.stack([tensors[f"{prefix}{e}.down_proj.weight"] for e in range(experts)])
        elif name == "lm_head.weight" and config["tie_word_embeddings"]:
            new[name] = tensors["model.embed_tokens.weight"]
        else:
            new[name] = tensors[name]
    model.load_state_dict({k: v.float() for k, v in new.items()})


def is_fp8_target(name):
    # The official release quantizes every decoder linear weight but the router.
    return name.startswith("model.layers.") and (name.endswith("proj.weight") or name.endswith("proj_with_mqa.weight"))


def quantize_fp8(weight):
    rows, cols = weight.shape
    grid = (math.ceil(rows / BLOCK), math.ceil(cols / BLOCK))
    scales = torch.zeros(grid, dtype=torch.float32)
    q = torch.zeros_like(weight, dtype=torch.float8_e4m3fn)
    for i in range(grid[0]):
        for j in range(grid[1]):
            block = weight[i * BLOCK:(i + 1) * BLOCK, j * BLOCK:(j + 1) * BLOCK]
            scale = block.abs().max().clamp(min=1e-12) / 448.0
            scales[i, j] = scale
            q[i * BLOCK:(i + 1) * BLOCK, j * BLOCK:(j + 1) * BLOCK] = (block / scale).to(torch.float8_e4m3fn)
    return q, scales


def dequantize_fp8(q, scales):
    w = q.float()
    rows, cols = w.shape
    for i in range(scales.shape[0]):
        for j in range(scales.shape[1]):
            w[i * BLOCK:(i + 1) * BLOCK, j * BLOCK:(j + 1) * BLOCK] *= scales[i, j]
    return w


def randomize(model, config, generator):
    """Norm scales near 1, non-zero linear biases and routing bias, so a port that skips any fails."""
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("norm.weight") or name.endswith("layernorm.weight"):
                p.copy_(1 + 0.2 * torch.randn(p.shape, generator=generator))
            elif name.endswith(".bias"):
                p.copy_(0.2 * torch.randn(p.shape, generator=generator))
        for name, b in model.named_buffers():
            if name.endswith("e_score_correction_bias"):
                b.copy_(0.3 * torch.randn(b.shape, generator=generator))


def train(model, settings, generator):
    """Fits the model to the sample text with AdamW on random windows (next-token cross-entropy)."""
    from tokenizers import Tokenizer
    ids = Tokenizer.from_file(os.path.join(TOKENIZER, "tokenizer.json")).encode(open(TEXT, encoding="utf-8").read()).ids
    data = torch.tensor(ids)
    window, batch = settings["window"], settings["batch"]
    optimizer = torch.optim.AdamW(model.parameters(), lr=settings["lr"], weight_decay=0.01)
    model.train()
    for step in range(settings["steps"]):
        starts = torch.randint(0, len(ids) - window - 1, (batch,), generator=generator)
        x = torch.stack([data[s:s + window] for s in starts])
        y = torch.stack([data[s + 1:s + window + 1] for s in starts])
        logits = model(x).logits
        loss = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if step % 10 == 0 or step == settings["steps"] - 1:
            print(f"  step {step}: loss {loss.item():.3f}")
    model.eval()


def reference(model, prompt):
    with torch.no_grad():
        logits = model(torch.tensor([prompt])).logits[0].float()
        ids, margin = list(prompt), float("inf")
        for _ in range(GREEDY_STEPS):
            last = model(torch.tensor([ids])).logits[0, -1].float()
            top = torch.topk(last, 2).values
            margin = min(margin, float(top[0] - top[1]))
            ids.append(int(last.argmax()))
    return logits, ids[len(prompt):], margin


def make(name, spec):
    config = spec["config"]
    torch.manual_seed(1234)
    generator = torch.Generator().manual_seed(sum(map(ord, name)))
    model = build(config).float().eval()
    model.config._attn_implementation = "eager"
    randomize(model, config, generator)
    if "train" in spec:
        train(model, spec["train"], generator)
    tensors = hub_state_dict(model, config)

    stored = {}
    if spec["dtype"] == "bf16":
        for k, v in tensors.items():
            stored[k] = v if k.endswith("e_score_correction_bias") else v.to(torch.bfloat16)
        load_hub_state_dict(model, {k: v.float() for k, v in stored.items()}, config)
    elif spec["dtype"] == "fp8":
        effective = {}
        for k, v in tensors.items():
            if is_fp8_target(k) and not k.endswith("mlp.gate.weight"):
                q, s = quantize_fp8(v.float())
                stored[k], stored[k + "_scale_inv"] = q, s
                effective[k] = dequantize_fp8(q, s)
            else:
                stored[k] = v if k.endswith("e_score_correction_bias") else v.to(torch.bfloat16)
                effective[k] = stored[k].float()
        load_hub_state_dict(model, effective, config)
    else:
        stored = tensors

    prompt = torch.randint(2, VOCAB, (spec["prompt"],), generator=generator).tolist()
    logits, greedy, margin = reference(model, prompt)

    folder = os.path.join(OUT, name)
    shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(folder)
    save_file(stored, os.path.join(folder, "model.safetensors"), metadata={"format": "pt"})
    with open(os.path.join(folder, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
    for file in ("tokenizer.json", "tokenizer_config.json"):
        shutil.copy(os.path.join(TOKENIZER, file), folder)
    with open(os.path.join(folder, "reference.json"), "w") as f:
        json.dump(dict(prompt_ids=prompt, logits=[[round(x, 7) for x in row] for row in logits.tolist()],
                       greedy_ids=greedy, greedy_margin=margin), f)
    if spec["dtype"] == "f32":
        # The checkpoint must load in transformers itself under the names written above.
        cls = DeepseekV2ForCausalLM if config["model_type"] == "deepseek_v2" else DeepseekV3ForCausalLM
        reloaded = cls.from_pretrained(folder, attn_implementation="eager").float().eval()
        with torch.no_grad():
            again = reloaded(torch.tensor([prompt])).logits[0].float()
        assert torch.allclose(again, logits, atol=1e-5), f"{name}: reloaded checkpoint disagrees"
    print(f"{name}: {len(stored)} tensors, {os.path.getsize(os.path.join(folder, 'model.safetensors'))} bytes, "
          f"max |logit| {logits.abs().max():.3f}, greedy margin {margin:.4f}")


def main():
    if not os.path.exists(os.path.join(TOKENIZER, "tokenizer.json")):
        sys.exit("run scripts/make_tokenizer_fixtures.py first (the checkpoints include its tokenizer)")
    names = sys.argv[1:] or list(FIXTURES)
    for name in names:
        make(name, FIXTURES[name])


if __name__ == "__main__":
    main()
