"""PyTorch eager on the same GPU: the anchor of the webgpu suite's figures (issue 14).

For each model folder: batch 1, a prompt of PROMPT tokens, NEW greedy tokens, fp32, a plain cached
decode loop with one `.item()` per token (what a simple eager generate does), no torch.compile.
Prints one JSON document: prefill and decode tokens/s per model, the GPU, the driver, torch's version.

usage: python3 bench/pytorch-eager-decode.py NAME=FOLDER [NAME=FOLDER ...] [--prompt 128] [--new 64]
"""
import argparse
import json
import subprocess
import time

import torch
from transformers import AutoModelForCausalLM


def measure(folder: str, prompt_tokens: int, new_tokens: int, attention: str) -> dict:
    model = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32, attn_implementation=attention)
    model = model.to("cuda").eval()
    vocab = model.config.vocab_size
    prompt = (torch.arange(prompt_tokens, device="cuda") * 7 + 5) % vocab

    def run() -> tuple[float, float]:
        torch.cuda.synchronize()
        start = time.perf_counter()
        out = model(input_ids=prompt[None], use_cache=True)
        token = out.logits[:, -1].argmax(-1)
        token.item()
        first = time.perf_counter() - start
        past = out.past_key_values
        start = time.perf_counter()
        for _ in range(new_tokens - 1):
            out = model(input_ids=token[:, None], past_key_values=past, use_cache=True)
            past = out.past_key_values
            token = out.logits[:, -1].argmax(-1)
            token.item()
        return first, time.perf_counter() - start

    with torch.inference_mode():
        for _ in range(2):
            run()
        first, decode = min((run() for _ in range(3)), key=lambda r: r[1])
    return {
        "attention": attention,
        "parameters": sum(p.numel() for p in model.parameters()),
        "time_to_first_token_ms": round(first * 1000, 2),
        "prefill_tokens_per_second": round(prompt_tokens / first, 1),
        "decode_tokens_per_second": round((new_tokens - 1) / decode, 1),
        "decode_step_ms": round(decode * 1000 / (new_tokens - 1), 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("models", nargs="+")
    parser.add_argument("--prompt", type=int, default=128)
    parser.add_argument("--new", type=int, default=64)
    args = parser.parse_args()
    driver = subprocess.run(
        ["nvidia-smi", "--query-gpu=name,driver_version", "--format=csv,noheader"],
        capture_output=True, text=True,
    ).stdout.strip()
    rows = []
    for spec in args.models:
        name, folder = spec.split("=", 1)
        for attention in ("eager", "sdpa"):
            rows.append({"model": name, **measure(folder, args.prompt, args.new, attention)})
    print(json.dumps({
        "gpu": torch.cuda.get_device_name(),
        "nvidia_smi": driver,
        "torch": torch.__version__,
        "prompt_tokens": args.prompt,
        "new_tokens": args.new,
        "results": rows,
    }, indent=2))


if __name__ == "__main__":
    main()
