"""Writes test-data/torch-rope-reference.json: RoPE inverse frequencies, attention scaling and cos/sin computed
with PyTorch float32 ops laid out as transformers 5's modeling_rope_utils.py and LlamaRotaryEmbedding.forward
lay them out (Python scalars meeting float32 tensors, `scalar / tensor`, the float32 matmul of frequencies and
positions), so the TypeScript tests can check the float32 rounding at every step.

Run with any PyTorch (the committed file was made with 1.13): `python3 scripts/torch-rope-reference.py`.
"""

import json
import math
import os

import numpy
import torch

POSITIONS = [0, 1, 5, 100, 1023, 2047, 2999, 4000]


def powers(base, dim):
    return base ** (torch.arange(0, dim, 2, dtype=torch.int64).float() / dim)


def default(case, seq_len=None):
    return 1.0 / powers(case["rope_theta"], case["dim"]), 1.0


def linear(case, seq_len=None):
    inv_freq, scaling = default(case)
    inv_freq /= case["factor"]
    return inv_freq, scaling


def dynamic(case, seq_len=None):
    base, dim, factor, limit = case["rope_theta"], case["dim"], case["factor"], case["max_position_embeddings"]
    if seq_len is None:
        seq_len = limit
    else:
        seq_len = torch.maximum(seq_len, torch.tensor(limit, dtype=seq_len.dtype))
    base = base * ((factor * seq_len / limit) - (factor - 1)) ** (dim / (dim - 2))
    return 1.0 / powers(base, dim), 1.0


def yarn(case, seq_len=None):
    base, dim, factor = case["rope_theta"], case["dim"], case["factor"]
    original = case["original_max_position_embeddings"]
    mscale, mscale_all_dim = case.get("mscale"), case.get("mscale_all_dim")

    def magnitude(scale, m=1):
        return 1.0 if scale <= 1 else 0.1 * m * math.log(scale) + 1.0

    attention_factor = case.get("attention_factor")
    if attention_factor is None:
        if mscale and mscale_all_dim:
            attention_factor = float(magnitude(factor, mscale) / magnitude(factor, mscale_all_dim))
        else:
            attention_factor = magnitude(factor)

    def correction(rotations):
        return (dim * math.log(original / (rotations * 2 * math.pi))) / (2 * math.log(base))

    low, high = correction(case.get("beta_fast") or 32), correction(case.get("beta_slow") or 1)
    if case.get("truncate", True):
        low, high = math.floor(low), math.ceil(high)
    low, high = max(low, 0), min(high, dim - 1)
    if low == high:
        high += 0.001
    ramp = torch.clamp((torch.arange(dim // 2, dtype=torch.float32) - low) / (high - low), 0, 1)
    pos_freqs = base ** (torch.arange(0, dim, 2).float() / dim)
    extrapolation = 1.0 / pos_freqs
    interpolation = 1.0 / (factor * pos_freqs)
    extrapolation_factor = 1 - ramp.float()
    inv_freq = interpolation * (1 - extrapolation_factor) + extrapolation * extrapolation_factor
    return inv_freq, attention_factor


def longrope(case, seq_len=None):
    base, dim = case["rope_theta"], case["dim"]
    original = case["original_max_position_embeddings"]
    factor = case.get("factor") or case["max_position_embeddings"] / original
    attention_factor = case.get("attention_factor")
    if attention_factor is None:
        attention_factor = 1.0 if factor <= 1.0 else math.sqrt(1 + math.log(factor) / math.log(original))
    chosen = case["long_factor"] if seq_len and seq_len > original else case["short_factor"]
    ext_factors = torch.tensor(chosen, dtype=torch.float32)
    shape = torch.arange(0, dim, 2, dtype=torch.int64).float() / dim
    return 1.0 / (ext_factors * base**shape), attention_factor


def llama3(case, seq_len=None):
    inv_freq, scaling = default(case)
    factor, low, high = case["factor"], case["low_freq_factor"], case["high_freq_factor"]
    old = case["original_max_position_embeddings"]
    low_wavelen, high_wavelen = old / low, old / high
    wavelen = 2 * math.pi / inv_freq
    scaled = torch.where(wavelen > low_wavelen, inv_freq / factor, inv_freq)
    smooth = (old / wavelen - low) / (high - low)
    smoothed = (1 - smooth) * scaled / factor + smooth * scaled
    medium = ~(wavelen < high_wavelen) * ~(wavelen > low_wavelen)
    return torch.where(medium, smoothed, scaled), scaling


KINDS = {"default": default, "linear": linear, "dynamic": dynamic, "yarn": yarn, "longrope": longrope, "llama3": llama3}


def cos_sin(inv_freq, scaling, positions):
    position_ids = torch.tensor([positions], dtype=torch.int64)
    inv_expanded = inv_freq[None, :, None].float().expand(1, -1, 1)
    freqs = (inv_expanded.float() @ position_ids[:, None, :].float()).transpose(1, 2)
    emb = torch.cat((freqs, freqs), dim=-1)
    return (emb.cos() * scaling)[0], (emb.sin() * scaling)[0]


def values(tensor):
    """Each float32 as the shortest decimal that rounds back to it (read it with Math.fround)."""
    return [float(numpy.format_float_positional(x, unique=True)) for x in tensor.reshape(-1).numpy()]


CASES = [
    {"name": "default", "config": {"head_dim": 64, "rope_theta": 10000.0, "max_position_embeddings": 4096}},
    {
        "name": "default-partial",
        "config": {"hidden_size": 2560, "num_attention_heads": 32, "partial_rotary_factor": 0.4, "rope_theta": 10000.0},
    },
    {"name": "linear", "config": {"head_dim": 128, "rope_scaling": {"type": "linear", "factor": 4.0}}},
    {
        "name": "dynamic",
        "config": {
            "head_dim": 64,
            "max_position_embeddings": 2048,
            "rope_parameters": {"rope_type": "dynamic", "factor": 2.0, "rope_theta": 10000.0},
        },
        "sequence_lengths": [2048, 3001, 4001],
    },
    {
        "name": "yarn",
        "config": {
            "head_dim": 128,
            "max_position_embeddings": 32768,
            "rope_theta": 1000000.0,
            "rope_scaling": {"rope_type": "yarn", "factor": 4.0, "original_max_position_embeddings": 8192},
        },
    },
    {
        "name": "yarn-mscale",
        "config": {
            "head_dim": 64,
            "max_position_embeddings": 163840,
            "rope_parameters": {
                "rope_type": "yarn",
                "rope_theta": 10000.0,
                "factor": 40.0,
                "original_max_position_embeddings": 4096,
                "beta_fast": 32,
                "beta_slow": 1,
                "mscale": 0.707,
                "mscale_all_dim": 1.0,
                "truncate": False,
            },
        },
    },
    {
        "name": "longrope",
        "config": {
            "hidden_size": 3072,
            "num_attention_heads": 32,
            "max_position_embeddings": 131072,
            "original_max_position_embeddings": 4096,
            "rope_theta": 10000.0,
            "rope_scaling": {
                "type": "longrope",
                "short_factor": [1.0 + 0.01 * i for i in range(48)],
                "long_factor": [1.0 + 0.75 * i for i in range(48)],
            },
        },
        "sequence_lengths": [4096, 4097],
    },
    {
        "name": "llama3",
        "config": {
            "head_dim": 128,
            "max_position_embeddings": 131072,
            "rope_parameters": {
                "rope_type": "llama3",
                "rope_theta": 500000.0,
                "factor": 8.0,
                "low_freq_factor": 1.0,
                "high_freq_factor": 4.0,
                "original_max_position_embeddings": 8192,
            },
        },
    },
]


def flatten(config):
    """The values the formulas read, from either spelling of the config."""
    rope = config.get("rope_scaling") or config.get("rope_parameters") or {}
    case = dict(rope)
    case["rope_theta"] = rope.get("rope_theta", config.get("rope_theta", 10000.0))
    head_dim = config.get("head_dim") or config["hidden_size"] // config["num_attention_heads"]
    case["dim"] = int(head_dim * config.get("partial_rotary_factor", 1.0))
    case["max_position_embeddings"] = config.get("max_position_embeddings")
    original = config.get("original_max_position_embeddings") or rope.get("original_max_position_embeddings")
    case["original_max_position_embeddings"] = original or config.get("max_position_embeddings")
    return case


def main():
    out = []
    for spec in CASES:
        case = flatten(spec["config"])
        kind = KINDS[case.get("rope_type", case.get("type", "default"))]
        for seq_len in spec.get("sequence_lengths", [None]):
            # dynamic_rope_update hands the length over as a tensor (max position + 1)
            length = None if seq_len is None else torch.tensor(seq_len, dtype=torch.int64)
            inv_freq, scaling = kind(case, length)
            cos, sin = cos_sin(inv_freq, scaling, POSITIONS)
            half = inv_freq.shape[0]
            out.append({
                "name": spec["name"],
                "config": spec["config"],
                "sequence_length": seq_len,
                "inverse_frequencies": values(inv_freq),
                "attention_scaling": scaling,
                "positions": POSITIONS,
                "cos": [values(row[:half]) for row in cos],
                "sin": [values(row[:half]) for row in sin],
            })
    path = os.path.join(os.path.dirname(__file__), "..", "test-data", "torch-rope-reference.json")
    with open(path, "w") as file:
        json.dump({"torch_version": torch.__version__, "cases": out}, file)


main()
