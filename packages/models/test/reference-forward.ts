// Plain-JS float64 reference forwards of tiny decoder-only models (GPT-2, Llama, Qwen3), built from the
// shared float64 blocks of @tsformer/models/testing, to check configurations the fixtures do not cover.
import {
  add,
  attend,
  type Checkpoint,
  conv1d,
  layerNorm,
  linear,
  type Matrix,
  rmsNorm,
  silu,
} from '../src/testing/float64.js';

export interface ReferenceLlama {
  vocabSize: number;
  hiddenSize: number;
  intermediateSize: number;
  layers: number;
  heads: number;
  kvHeads: number;
  headDim: number;
  eps: number;
  tied: boolean;
  /** Per layer, or null for full attention. */
  slidingWindows?: (number | null)[];
  activation?: (x: number) => number;
  /** Multiplier of the scores (default 1/√headDim). */
  scale?: number;
  /** Soft cap of the scaled scores (none by default). */
  softcap?: number;
  rotate: (vector: number[], position: number) => number[];
}

/**
 * Logits `[seq, vocab]` of a Llama-architecture model: biases, and Qwen3's per-head q/k norms, wherever
 * the checkpoint has them.
 */
export function referenceLlamaLogits(
  spec: ReferenceLlama,
  weights: Checkpoint,
  inputIds: number[],
  positions: number[] = inputIds.map((_, i) => i),
): Matrix {
  const w = (name: string) => weights.get(name)!;
  const embed = w('model.embed_tokens.weight');
  let hidden: Matrix = inputIds.map((id) => embed.slice(id * spec.hiddenSize, (id + 1) * spec.hiddenSize));
  const act = spec.activation ?? silu;
  for (let layer = 0; layer < spec.layers; layer++) {
    const p = `model.layers.${layer}.`;
    const x = rmsNorm(hidden, w(`${p}input_layernorm.weight`), spec.eps);
    const proj = (name: string, out: number) =>
      linear(x, w(`${p}self_attn.${name}.weight`), out, weights.get(`${p}self_attn.${name}.bias`));
    // Qwen3's q_norm / k_norm, wherever the checkpoint has them: an RMSNorm over each head's channels
    const headNorm = (projected: Matrix, heads: number, name: string) => {
      const weight = weights.get(`${p}self_attn.${name}.weight`);
      if (!weight) return projected;
      return projected.map((row) =>
        Array.from(
          { length: heads },
          (_, head) =>
            rmsNorm([row.slice(head * spec.headDim, (head + 1) * spec.headDim)], weight, spec.eps)[0]!,
        ).flat(),
      );
    };
    const q = headNorm(proj('q_proj', spec.heads * spec.headDim), spec.heads, 'q_norm');
    const k = headNorm(proj('k_proj', spec.kvHeads * spec.headDim), spec.kvHeads, 'k_norm');
    const v = proj('v_proj', spec.kvHeads * spec.headDim);
    const context = attend(q, k, v, {
      positions,
      heads: spec.heads,
      kvHeads: spec.kvHeads,
      headDim: spec.headDim,
      scale: spec.scale ?? 1 / Math.sqrt(spec.headDim),
      softcap: spec.softcap,
      slidingWindow: spec.slidingWindows?.[layer] ?? null,
      rotate: spec.rotate,
    });
    hidden = add(
      hidden,
      linear(
        context,
        w(`${p}self_attn.o_proj.weight`),
        spec.hiddenSize,
        weights.get(`${p}self_attn.o_proj.bias`),
      ),
    );
    const y = rmsNorm(hidden, w(`${p}post_attention_layernorm.weight`), spec.eps);
    const gate = linear(
      y,
      w(`${p}mlp.gate_proj.weight`),
      spec.intermediateSize,
      weights.get(`${p}mlp.gate_proj.bias`),
    );
    const up = linear(
      y,
      w(`${p}mlp.up_proj.weight`),
      spec.intermediateSize,
      weights.get(`${p}mlp.up_proj.bias`),
    );
    const product = gate.map((row, r) => row.map((g, c) => act(g) * up[r]![c]!));
    hidden = add(
      hidden,
      linear(product, w(`${p}mlp.down_proj.weight`), spec.hiddenSize, weights.get(`${p}mlp.down_proj.bias`)),
    );
  }
  hidden = rmsNorm(hidden, w('model.norm.weight'), spec.eps);
  return linear(hidden, spec.tied ? embed : w('lm_head.weight'), spec.vocabSize);
}

export interface ReferenceGPT2 {
  vocabSize: number;
  hiddenSize: number;
  innerSize: number;
  layers: number;
  heads: number;
  eps: number;
  tied: boolean;
  scaleAttentionWeights: boolean;
  scaleByInverseLayerIndex: boolean;
  activation: (x: number) => number;
  /** `[layers][heads]` multipliers of the attention probabilities. */
  headMask?: number[][];
}

/** Logits `[seq, vocab]` of a GPT-2 model (Conv1D weights `[in, out]`, learned positions, pre-norm). */
export function referenceGPT2Logits(spec: ReferenceGPT2, weights: Checkpoint, inputIds: number[]): Matrix {
  const w = (name: string) => weights.get(name)!;
  const { hiddenSize, heads } = spec;
  const headDim = hiddenSize / heads;
  const wte = w('transformer.wte.weight');
  const wpe = w('transformer.wpe.weight');
  let hidden: Matrix = inputIds.map((id, t) =>
    Array.from({ length: hiddenSize }, (_, c) => wte[id * hiddenSize + c]! + wpe[t * hiddenSize + c]!),
  );
  for (let layer = 0; layer < spec.layers; layer++) {
    const p = `transformer.h.${layer}.`;
    const x = layerNorm(hidden, w(`${p}ln_1.weight`), w(`${p}ln_1.bias`), spec.eps);
    const qkv = conv1d(x, w(`${p}attn.c_attn.weight`), 3 * hiddenSize, w(`${p}attn.c_attn.bias`));
    const part = (index: number) => qkv.map((row) => row.slice(index * hiddenSize, (index + 1) * hiddenSize));
    let scale = spec.scaleAttentionWeights ? 1 / Math.sqrt(headDim) : 1;
    if (spec.scaleByInverseLayerIndex) scale /= layer + 1;
    const context = attend(part(0), part(1), part(2), {
      positions: inputIds.map((_, i) => i),
      heads,
      kvHeads: heads,
      headDim,
      scale,
      headMask: spec.headMask?.[layer],
    });
    hidden = add(hidden, conv1d(context, w(`${p}attn.c_proj.weight`), hiddenSize, w(`${p}attn.c_proj.bias`)));
    const y = layerNorm(hidden, w(`${p}ln_2.weight`), w(`${p}ln_2.bias`), spec.eps);
    const inner = conv1d(y, w(`${p}mlp.c_fc.weight`), spec.innerSize, w(`${p}mlp.c_fc.bias`)).map((row) =>
      row.map(spec.activation),
    );
    hidden = add(hidden, conv1d(inner, w(`${p}mlp.c_proj.weight`), hiddenSize, w(`${p}mlp.c_proj.bias`)));
  }
  hidden = layerNorm(hidden, w('transformer.ln_f.weight'), w('transformer.ln_f.bias'), spec.eps);
  return linear(hidden, spec.tied ? wte : w('lm_head.weight'), spec.vocabSize);
}
