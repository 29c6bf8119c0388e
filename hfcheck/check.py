"""Loads the folders save-folders.mjs wrote with transformers' from_pretrained and checks that no key is
missing, unexpected or mismatched and that the logits match tsformer's (atol 1e-4).
Usage: python check_hf_load.py OUT_DIR"""
import json
import sys

import torch
import transformers
from transformers import AutoModelForCausalLM, AutoModelForSeq2SeqLM

out = sys.argv[1]
expected = json.load(open(f"{out}/expected.json"))
input_ids = torch.tensor(expected["input_ids"])
decoder_input_ids = torch.tensor(expected["decoder_input_ids"])
print(f"transformers {transformers.__version__}, torch {torch.__version__}")
failures = 0
for name, logits in expected["logits"].items():
    config = json.load(open(f"{out}/{name}/config.json"))
    seq2seq = config.get("is_encoder_decoder", False)
    auto = AutoModelForSeq2SeqLM if seq2seq else AutoModelForCausalLM
    model, info = auto.from_pretrained(f"{out}/{name}", output_loading_info=True, attn_implementation="eager")
    model.eval()
    with torch.no_grad():
        if seq2seq:
            actual = model(input_ids=input_ids, decoder_input_ids=decoder_input_ids).logits
        else:
            actual = model(input_ids=input_ids).logits
    diff = (actual.flatten() - torch.from_numpy(__import__("numpy").fromfile(f"{out}/{logits}", dtype="float32"))).abs().max().item()
    problems = {k: v for k, v in info.items() if v}
    tied = getattr(model.config, "tie_word_embeddings", None)
    ok = not problems and diff <= 1e-4
    failures += not ok
    print(f"{'PASS' if ok else 'FAIL'} {name}: {type(model).__name__}, max |logit diff| {diff:.2e}, "
          f"tie_word_embeddings {tied}, loading problems {problems or 'none'}")
print(f"{len(expected['logits']) - failures} passed, {failures} failed")
sys.exit(1 if failures else 0)
