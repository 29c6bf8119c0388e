// Plain-JS float64 reference forwards of tiny decoder-only models, written from the papers / HF
// modeling files with loops and no tfjs, to check configurations the fixtures do not cover.
import * as tf from '@tensorflow/tfjs-core';
import { type Module, type Parameter, SeededRandom } from '@tsformer/core-tensor';

/** Checkpoint-layout values of every parameter, by HF name. */
export type Checkpoint = Map<string, number[]>;

/**
 * Fills every parameter of `module` with seeded values in the checkpoint layout and returns them.
 * Values are multiples of 2^-10 below 2 in magnitude, so float16 represents them exactly.
 */
export function randomCheckpoint(module: Module, seed: number, std = 0.3): Checkpoint {
  const random = new SeededRandom(seed);
  const checkpoint: Checkpoint = new Map();
  const filled = new Map<Parameter, number[]>();
  for (const [name, parameter] of module.namedParameters()) {
    let values = filled.get(parameter); // a tied parameter gets the same values under each name
    if (!values) {
      values = Array.from({ length: parameter.size }, () => {
        const value = Math.round(random.normal() * std * 1024) / 1024;
        return Math.max(-2047 / 1024, Math.min(2047 / 1024, value));
      });
      parameter.assign(tf.tensor(values, [...parameter.shape]));
      filled.set(parameter, values);
    }
    checkpoint.set(name, values);
  }
  return checkpoint;
}

type Matrix = number[][];

/** `x` rows times `W`ᵀ for an `[out, in]` weight (nn.Linear), plus bias. */
export function linear(x: Matrix, weight: number[], outFeatures: number, bias?: number[]): Matrix {
  const inFeatures = weight.length / outFeatures;
  return x.map((row) =>
    Array.from({ length: outFeatures }, (_, o) => {
      let sum = bias?.[o] ?? 0;
      for (let i = 0; i < inFeatures; i++) sum += row[i]! * weight[o * inFeatures + i]!;
      return sum;
    }),
  );
}

/** `x` rows times `W` for an `[in, out]` weight (GPT-2 Conv1D), plus bias. */
export function conv1d(x: Matrix, weight: number[], outFeatures: number, bias: number[]): Matrix {
  const inFeatures = weight.length / outFeatures;
  return x.map((row) =>
    Array.from({ length: outFeatures }, (_, o) => {
      let sum = bias[o]!;
      for (let i = 0; i < inFeatures; i++) sum += row[i]! * weight[i * outFeatures + o]!;
      return sum;
    }),
  );
}

export function rmsNorm(x: Matrix, weight: number[], eps: number): Matrix {
  return x.map((row) => {
    const scale = 1 / Math.sqrt(row.reduce((s, v) => s + v * v, 0) / row.length + eps);
    return row.map((v, i) => v * scale * weight[i]!);
  });
}

export function layerNorm(x: Matrix, weight: number[], bias: number[], eps: number): Matrix {
  return x.map((row) => {
    const mean = row.reduce((s, v) => s + v, 0) / row.length;
    const variance = row.reduce((s, v) => s + (v - mean) ** 2, 0) / row.length;
    return row.map((v, i) => ((v - mean) / Math.sqrt(variance + eps)) * weight[i]! + bias[i]!);
  });
}

const add = (a: Matrix, b: Matrix): Matrix => a.map((row, r) => row.map((v, c) => v + b[r]![c]!));

/** One token's view of a head: columns `head·headDim …` of a projection. */
const headOf = (row: number[], head: number, headDim: number): number[] =>
  row.slice(head * headDim, (head + 1) * headDim);

export interface ReferenceAttention {
  /** Query positions (absolute) and key positions, one per token. */
  positions: number[];
  heads: number;
  kvHeads: number;
  headDim: number;
  scale: number;
  slidingWindow?: number | null;
  /** Multiplier of each head's probabilities. */
  headMask?: number[];
  /** Applies RoPE to one head vector at a position (identity when absent). */
  rotate?: (vector: number[], position: number) => number[];
}

/** Causal softmax attention over `[seq, heads·headDim]` projections; returns `[seq, heads·headDim]`. */
export function attend(q: Matrix, k: Matrix, v: Matrix, options: ReferenceAttention): Matrix {
  const { positions, heads, kvHeads, headDim, scale, slidingWindow, headMask, rotate = (x) => x } = options;
  const groups = heads / kvHeads;
  return q.map((queryRow, t) => {
    const out: number[] = [];
    for (let head = 0; head < heads; head++) {
      const kvHead = Math.floor(head / groups);
      const query = rotate(headOf(queryRow, head, headDim), positions[t]!);
      const visible = k
        .map((_, s) => s)
        .filter((s) => s <= t && (slidingWindow == null || t - s < slidingWindow));
      const scores = visible.map((s) => {
        const key = rotate(headOf(k[s]!, kvHead, headDim), positions[s]!);
        return query.reduce((sum, x, d) => sum + x * key[d]!, 0) * scale;
      });
      const max = Math.max(...scores);
      const weights = scores.map((score) => Math.exp(score - max));
      const total = weights.reduce((a, b) => a + b, 0);
      const factor = headMask?.[head] ?? 1;
      const context = new Array<number>(headDim).fill(0);
      visible.forEach((s, j) => {
        const value = headOf(v[s]!, kvHead, headDim);
        for (let d = 0; d < headDim; d++) context[d]! += (weights[j]! / total) * factor * value[d]!;
      });
      out.push(...context);
    }
    return out;
  });
}

/** HF's rotate-half RoPE with the given inverse frequencies (float64) and cos/sin scaling. */
export function ropeRotation(
  inverseFrequencies: number[],
  attentionScaling = 1,
): (vector: number[], position: number) => number[] {
  const half = inverseFrequencies.length;
  return (vector, position) => {
    const out = [...vector];
    for (let j = 0; j < half; j++) {
      const angle = position * inverseFrequencies[j]!;
      const cos = Math.cos(angle) * attentionScaling;
      const sin = Math.sin(angle) * attentionScaling;
      out[j] = vector[j]! * cos - vector[j + half]! * sin;
      out[j + half] = vector[j + half]! * cos + vector[j]! * sin;
    }
    return out;
  };
}

/** `1 / theta^(2i / dim)` for i < dim / 2 (the default RoPE frequencies). */
export function defaultInverseFrequencies(theta: number, dim: number): number[] {
  return Array.from({ length: dim / 2 }, (_, i) => 1 / theta ** ((2 * i) / dim));
}

export const silu = (x: number): number => x / (1 + Math.exp(-x));

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
  rotate: (vector: number[], position: number) => number[];
}

/** Logits `[seq, vocab]` of a Llama-architecture model (biases wherever the checkpoint has them). */
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
    const q = proj('q_proj', spec.heads * spec.headDim);
    const k = proj('k_proj', spec.kvHeads * spec.headDim);
    const v = proj('v_proj', spec.kvHeads * spec.headDim);
    const context = attend(q, k, v, {
      positions,
      heads: spec.heads,
      kvHeads: spec.kvHeads,
      headDim: spec.headDim,
      scale: 1 / Math.sqrt(spec.headDim),
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
