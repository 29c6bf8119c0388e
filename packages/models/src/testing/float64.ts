// Plain-JS float64 building blocks of reference forwards, written from the papers / HF modeling files
// with loops and no tfjs: what a family's tests compare its model with where fixtures do not reach.
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

/** Rows of a `[tokens, features]` matrix. */
export type Matrix = number[][];

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

/** `x / sqrt(mean(x²) + eps) · (weightOffset + weight)` per row (Gemma: `weightOffset` 1). */
export function rmsNorm(x: Matrix, weight: number[], eps: number, weightOffset = 0): Matrix {
  return x.map((row) => {
    const scale = 1 / Math.sqrt(row.reduce((s, v) => s + v * v, 0) / row.length + eps);
    return row.map((v, i) => v * scale * (weightOffset + weight[i]!));
  });
}

export function layerNorm(x: Matrix, weight: number[], bias: number[], eps: number): Matrix {
  return x.map((row) => {
    const mean = row.reduce((s, v) => s + v, 0) / row.length;
    const variance = row.reduce((s, v) => s + (v - mean) ** 2, 0) / row.length;
    return row.map((v, i) => ((v - mean) / Math.sqrt(variance + eps)) * weight[i]! + bias[i]!);
  });
}

/** Element-wise `a + b`. */
export const add = (a: Matrix, b: Matrix): Matrix => a.map((row, r) => row.map((v, c) => v + b[r]![c]!));

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
  /** Soft cap of the scaled scores (Gemma 2's `attn_logit_softcapping`). */
  softcap?: number;
  /** Applies RoPE to one head vector at a position (identity when absent). */
  rotate?: (vector: number[], position: number) => number[];
}

/** Causal softmax attention (scores scaled, then soft-capped when asked) over `[seq, heads·headDim]` projections; returns `[seq, heads·headDim]`. */
export function attend(q: Matrix, k: Matrix, v: Matrix, options: ReferenceAttention): Matrix {
  const { positions, heads, kvHeads, headDim, scale, slidingWindow, headMask, rotate = (x) => x } = options;
  const cap = (score: number) => (options.softcap === undefined ? score : softcap(score, options.softcap));
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
        return cap(query.reduce((sum, x, d) => sum + x * key[d]!, 0) * scale);
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

/** erf by its Maclaurin series (converges fast for the |x| < 6 seen here). */
export function erf(x: number): number {
  if (Math.abs(x) > 6) return Math.sign(x);
  let term = x;
  let sum = x;
  for (let n = 1; n < 200; n++) {
    term *= (-x * x) / n;
    sum += term / (2 * n + 1);
  }
  return (2 / Math.sqrt(Math.PI)) * sum;
}

/** `tanh(x / cap) · cap` (Gemma 2's soft cap). */
export const softcap = (x: number, cap: number): number => Math.tanh(x / cap) * cap;

/** HF activations by name, in float64. */
export const ACTIVATIONS: Readonly<Record<string, (x: number) => number>> = {
  relu: (x) => Math.max(0, x),
  gelu: (x) => 0.5 * x * (1 + erf(x / Math.SQRT2)),
  gelu_new: (x) => 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3))),
  gelu_pytorch_tanh: (x) => 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3))),
  silu,
  swish: silu,
};
