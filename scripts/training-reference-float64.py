"""Redo each fixture folder's training reference (training.json) in float64: the exact answer the
float32 frameworks are judged against.

For every folder under fixtures/hf-reference that has training.json + training.safetensors this runs
the README's recipe (fixtures/hf-reference/README.md, "Training reference": model(**batch).loss with
dropout off, backward, clip_grad_norm_ to max_grad_norm, torch.optim.AdamW, 3 steps on one batch)
three times:
  - float64 on CPU, with every float32 cast inside transformers' modules (RMSNorm's `.to(float32)`,
    `softmax(dtype=float32)`, RoPE's `.float()`) kept in float64, so nothing is rounded to float32;
  - float32 on CPU again (it should reproduce training.safetensors: the recipe is the fixture's);
  - float32 on CUDA (TF32 off), a second float32 order of summation.
It writes next to each fixture:
  - training-float64.json: the float64 losses and gradient norms, and per tensor how far PyTorch's
    float32 (the fixture, and the CUDA run) is from float64;
  - training-float64.safetensors: the float64 gradients (`grad.<name>`) and final weights
    (`step3.<name>`), sparse: `<key>.indices` (I32, flat element indices) and `<key>.values` (F64)
    hold the elements where the fixture's float32 value differs from float64 by more than
    OMIT_ATOL + OMIT_RTOL * |float64|; every other element equals the fixture's value within that
    bound (1e-7 + 1e-7·|x|, 1 % of the 1e-5 tolerance), which keeps the files small.

Run where PyTorch and transformers are installed (the GPU machine): `python3 scripts/training-reference-float64.py
[fixtures/hf-reference] [folder ...]`.
"""

import contextlib
import json
import sys
import traceback
from pathlib import Path

import torch
import torch.nn.functional as F
from safetensors.torch import load_file, save_file
from transformers import AutoModelForCausalLM, AutoModelForSeq2SeqLM

OMIT_ATOL = 1e-7
OMIT_RTOL = 1e-7
TOLERANCE = 1e-5


@contextlib.contextmanager
def float32_means_float64():
    """Inside, float32 casts of float64 tensors keep float64 and new tensors default to float64."""
    original_to, original_float, original_softmax = torch.Tensor.to, torch.Tensor.float, F.softmax
    previous_default = torch.get_default_dtype()

    def widen(dtype):
        return torch.float64 if dtype is torch.float32 else dtype

    def to(self, *args, **kwargs):
        args = tuple(widen(a) if isinstance(a, torch.dtype) else a for a in args)
        if "dtype" in kwargs:
            kwargs["dtype"] = widen(kwargs["dtype"])
        return original_to(self, *args, **kwargs)

    def to_float(self, *args, **kwargs):
        return original_to(self, torch.float64)

    def softmax(input, *args, **kwargs):
        if "dtype" in kwargs:
            kwargs["dtype"] = widen(kwargs["dtype"])
        return original_softmax(input, *args, **kwargs)

    torch.Tensor.to, torch.Tensor.float, F.softmax = to, to_float, softmax
    torch.set_default_dtype(torch.float64)
    try:
        yield
    finally:
        torch.Tensor.to, torch.Tensor.float, F.softmax = original_to, original_float, original_softmax
        torch.set_default_dtype(previous_default)


def train(folder: Path, reference: dict, dtype: torch.dtype, device: str) -> dict:
    """The fixture's recipe: losses, gradient norms, first gradients and final weights (float64, CPU).
    Eager attention, as the fixtures (SDPA drops Gemma 2's soft-capping; eager's only float32 cast,
    the softmax's, float32_means_float64 widens)."""
    family = AutoModelForSeq2SeqLM if reference["is_encoder_decoder"] else AutoModelForCausalLM
    model = family.from_pretrained(str(folder), dtype=dtype, attn_implementation="eager").to(device)
    model.eval()  # dropout off, gradients flow as usual
    batch = {k: torch.tensor(v, dtype=torch.long, device=device) for k, v in reference["batch"].items()}
    named = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    h = reference["hyperparameters"]
    optimizer = torch.optim.AdamW(
        [p for _, p in named], lr=h["lr"], betas=tuple(h["betas"]), eps=h["eps"], weight_decay=h["weight_decay"]
    )
    losses, norms, gradients = [], [], {}
    for step in range(h["steps"]):
        optimizer.zero_grad(set_to_none=True)
        loss = model(**batch).loss
        loss.backward()
        losses.append(loss.item())
        if step == 0:
            # a copy: clip_grad_norm_ scales the gradients in place, and .double() of float64 is no copy
            gradients = {n: p.grad.detach().to("cpu", torch.float64, copy=True) for n, p in named if p.grad is not None}
        norm = torch.nn.utils.clip_grad_norm_([p for _, p in named], h["max_grad_norm"])
        norms.append(norm.item())
        optimizer.step()
    with torch.no_grad():
        losses.append(model(**batch).loss.item())
    weights = {n: p.detach().to("cpu", torch.float64, copy=True) for n, p in named}
    return {"losses": losses, "norms": norms, "grad": gradients, "step3": weights, "names": [n for n, _ in named]}


def compare(a: torch.Tensor, b: torch.Tensor) -> dict:
    difference = (a - b).abs()
    return {"max": difference.max().item() if difference.numel() else 0.0, "over_1e-5": int((difference > TOLERANCE).sum())}


def build(folder: Path) -> dict:
    reference = json.loads((folder / "training.json").read_text())
    fixture = {k: v.double() for k, v in load_file(str(folder / "training.safetensors")).items()}
    with float32_means_float64():
        exact = train(folder, reference, torch.float64, "cpu")
    runs = {"cpu32": train(folder, reference, torch.float32, "cpu")}
    if torch.cuda.is_available():
        runs["cuda32"] = train(folder, reference, torch.float32, "cuda")
    if sorted(exact["names"]) != sorted(reference["parameters"]):
        raise SystemExit(f"{folder}: parameters differ from training.json's")
    sparse, tensors = {}, {}
    for part in ("grad", "step3"):
        for name, value in exact[part].items():
            key = f"{part}.{name}"
            pytorch32 = fixture[key]
            off = ((pytorch32 - value).abs() > OMIT_ATOL + OMIT_RTOL * value.abs()).flatten()
            indices = off.nonzero().flatten()
            sparse[f"{key}.indices"] = indices.to(torch.int32).contiguous()
            sparse[f"{key}.values"] = value.flatten()[indices].contiguous()
            tensors[key] = {
                "fixture_vs_float64": compare(pytorch32, value),
                **{f"{run}_vs_float64": compare(result[part][name], value) for run, result in runs.items()},
                "cpu32_vs_fixture": compare(runs["cpu32"][part][name], pytorch32),
                "stored_elements": int(indices.numel()),
            }
    save_file(sparse, str(folder / "training-float64.safetensors"), metadata={"omit_atol": str(OMIT_ATOL), "omit_rtol": str(OMIT_RTOL)})
    summary = {
        "model": reference.get("model", folder.name),
        "losses": exact["losses"],
        "grad_norms_before_clipping": exact["norms"],
        "omitted_where": f"|fixture - float64| <= {OMIT_ATOL} + {OMIT_RTOL} * |float64| (the fixture's value stands)",
        "torch": torch.__version__,
        "float32_runs": {run: {"losses": r["losses"], "grad_norms_before_clipping": r["norms"]} for run, r in runs.items()},
        "fixture": {"losses": reference["losses"], "grad_norms_before_clipping": reference["grad_norms_before_clipping"]},
        "tensors": tensors,
    }
    (folder / "training-float64.json").write_text(json.dumps(summary, indent=1) + "\n")
    return summary


def report(summary: dict) -> None:
    def worst(part: str, field: str) -> str:
        rows = [(v[field]["max"], v[field]["over_1e-5"], k) for k, v in summary["tensors"].items() if k.startswith(part)]
        largest = max(rows) if rows else (0.0, 0, "")
        return f"{field}: max {largest[0]:.2e} ({largest[2]}), {sum(r[1] for r in rows)} elements > 1e-5"

    print(f"== {summary['model']}")
    print("  float64 losses", summary["losses"], "norms", summary["grad_norms_before_clipping"])
    print("  fixture losses", summary["fixture"]["losses"], "norms", summary["fixture"]["grad_norms_before_clipping"])
    for run, r in summary["float32_runs"].items():
        print(f"  {run} losses", r["losses"], "norms", r["grad_norms_before_clipping"])
    fields = ["fixture_vs_float64", "cpu32_vs_fixture"] + [f for f in ("cuda32_vs_float64",) if any(f in v for v in summary["tensors"].values())]
    for part in ("grad.", "step3."):
        for field in fields:
            print(f"  {part[:-1]:5} {worst(part, field)}")
    print("  stored elements", sum(v["stored_elements"] for v in summary["tensors"].values()))


def main() -> None:
    root = Path(sys.argv[1] if len(sys.argv) > 1 else "fixtures/hf-reference")
    names = sys.argv[2:] or sorted(p.parent.name for p in root.glob("*/training.json"))
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    failed = []
    for name in names:
        try:
            report(build(root / name))
        except Exception:  # one folder's failure must not cost the others' results
            traceback.print_exc()
            failed.append(name)
    if failed:
        raise SystemExit(f"failed: {', '.join(failed)}")


if __name__ == "__main__":
    main()
