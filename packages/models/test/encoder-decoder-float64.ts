// An independent float64 forward of a BART-style encoder-decoder, written with plain loops over
// number arrays (no tfjs), for tiny configs: the reference the encoder-decoder tests compare with.
import type { BartConfig } from '../src/bart/bart-config.js';
import {
  ACTIVATIONS,
  add,
  layerNorm as layerNormRows,
  linear as linearRows,
} from '../src/testing/float64.js';

/** Checkpoint-layout weights by name (row-major; Linear weights `[out, in]`). */
export type Float64Weights = ReadonlyMap<string, readonly number[]>;

type Rows = number[][];

function weight(weights: Float64Weights, name: string): readonly number[] {
  const values = weights.get(name);
  if (!values) throw new Error(`reference: no weight ${name}`);
  return values;
}

/** `x Wᵀ + b` with the `[out, in]` weight (and bias) named `prefix`. */
function linear(rows: Rows, weights: Float64Weights, prefix: string, bias = true): Rows {
  const w = weight(weights, `${prefix}.weight`);
  return linearRows(
    rows,
    [...w],
    w.length / rows[0]!.length,
    bias ? [...weight(weights, `${prefix}.bias`)] : undefined,
  );
}

function layerNorm(rows: Rows, weights: Float64Weights, prefix: string): Rows {
  return layerNormRows(
    rows,
    [...weight(weights, `${prefix}.weight`)],
    [...weight(weights, `${prefix}.bias`)],
    1e-5,
  );
}

/** Multi-head attention of `queries` over `keysFrom`; `visible(i, j)` says whether query i sees key j. */
function attention(
  queries: Rows,
  keysFrom: Rows,
  weights: Float64Weights,
  prefix: string,
  heads: number,
  visible: (i: number, j: number) => boolean,
): Rows {
  const q = linear(queries, weights, `${prefix}.q_proj`);
  const k = linear(keysFrom, weights, `${prefix}.k_proj`);
  const v = linear(keysFrom, weights, `${prefix}.v_proj`);
  const dModel = q[0]!.length;
  const headDim = dModel / heads;
  const merged: Rows = queries.map(() => new Array<number>(dModel).fill(0));
  for (let h = 0; h < heads; h++) {
    const offset = h * headDim;
    for (let i = 0; i < queries.length; i++) {
      const scores = k.map((key, j) => {
        if (!visible(i, j)) return Number.NEGATIVE_INFINITY;
        let dot = 0;
        for (let d = 0; d < headDim; d++) dot += q[i]![offset + d]! * key[offset + d]!;
        return dot / Math.sqrt(headDim);
      });
      const max = Math.max(...scores);
      const exps = scores.map((s) => (s === Number.NEGATIVE_INFINITY ? 0 : Math.exp(s - max)));
      const total = exps.reduce((a, b) => a + b, 0);
      for (let j = 0; j < k.length; j++) {
        for (let d = 0; d < headDim; d++) merged[i]![offset + d]! += (exps[j]! / total) * v[j]![offset + d]!;
      }
    }
  }
  return linear(merged, weights, `${prefix}.out_proj`);
}

/** Position `position`'s encoding, computed from the formulas (not from the model's table). */
function positionRow(config: BartConfig, weights: Float64Weights, stack: string, position: number): number[] {
  const dim = config.dModel;
  if (config.positionEncoding === 'learned-offset-2') {
    const table = weight(weights, `model.${stack}.embed_positions.weight`);
    return table.slice((position + 2) * dim, (position + 3) * dim);
  }
  const angle = (i: number) => position / 10000 ** ((2 * i) / dim);
  if (config.positionEncoding === 'sinusoidal-interleaved') {
    return Array.from({ length: dim }, (_, f) =>
      f % 2 === 0 ? Math.sin(angle(f / 2)) : Math.cos(angle((f - 1) / 2)),
    );
  }
  const half = Math.ceil(dim / 2);
  return Array.from({ length: dim }, (_, f) => (f < half ? Math.sin(angle(f)) : Math.cos(angle(f - half))));
}

function embed(config: BartConfig, weights: Float64Weights, stack: string, tokens: readonly number[]): Rows {
  const dim = config.dModel;
  const tableName = config.shareEncoderDecoderEmbeddings
    ? 'model.shared.weight'
    : `model.${stack}.embed_tokens.weight`;
  const table = weight(weights, tableName);
  const scale = config.scaleEmbedding ? Math.sqrt(dim) : 1;
  const rows = tokens.map((id, position) => {
    const positions = positionRow(config, weights, stack, position);
    return Array.from({ length: dim }, (_, f) => table[id * dim + f]! * scale + positions[f]!);
  });
  return config.layernormEmbedding ? layerNorm(rows, weights, `model.${stack}.layernorm_embedding`) : rows;
}

/** A residual sub-block, post-norm `norm(x + f(x))` or pre-norm `x + f(norm(x))`. */
function residual(
  config: BartConfig,
  weights: Float64Weights,
  norm: string,
  hidden: Rows,
  f: (x: Rows) => Rows,
): Rows {
  if (config.normalizeBefore) return add(hidden, f(layerNorm(hidden, weights, norm)));
  return layerNorm(add(hidden, f(hidden)), weights, norm);
}

function feedForward(config: BartConfig, weights: Float64Weights, prefix: string, rows: Rows): Rows {
  const act = ACTIVATIONS[config.activationFunction];
  if (!act) throw new Error(`reference: no activation ${config.activationFunction}`);
  const intermediate = linear(rows, weights, `${prefix}.fc1`).map((row) => row.map(act));
  return linear(intermediate, weights, `${prefix}.fc2`);
}

/** Encoder output of one (unpadded) source sequence. */
export function referenceEncode(
  config: BartConfig,
  weights: Float64Weights,
  source: readonly number[],
): Rows {
  let hidden = embed(config, weights, 'encoder', source);
  for (let l = 0; l < config.encoderLayers; l++) {
    const prefix = `model.encoder.layers.${l}`;
    hidden = residual(config, weights, `${prefix}.self_attn_layer_norm`, hidden, (x) =>
      attention(x, x, weights, `${prefix}.self_attn`, config.encoderAttentionHeads, () => true),
    );
    hidden = residual(config, weights, `${prefix}.final_layer_norm`, hidden, (x) =>
      feedForward(config, weights, prefix, x),
    );
  }
  return config.addFinalLayerNorm ? layerNorm(hidden, weights, 'model.encoder.layer_norm') : hidden;
}

/** Logits `[target, decoderVocab]` of one source/target pair (no padding). */
export function referenceLogits(
  config: BartConfig,
  weights: Float64Weights,
  source: readonly number[],
  target: readonly number[],
): Rows {
  const encoded = referenceEncode(config, weights, source);
  let hidden = embed(config, weights, 'decoder', target);
  for (let l = 0; l < config.decoderLayers; l++) {
    const prefix = `model.decoder.layers.${l}`;
    const heads = config.decoderAttentionHeads;
    hidden = residual(config, weights, `${prefix}.self_attn_layer_norm`, hidden, (x) =>
      attention(x, x, weights, `${prefix}.self_attn`, heads, (i, j) => j <= i),
    );
    hidden = residual(config, weights, `${prefix}.encoder_attn_layer_norm`, hidden, (x) =>
      attention(x, encoded, weights, `${prefix}.encoder_attn`, heads, () => true),
    );
    hidden = residual(config, weights, `${prefix}.final_layer_norm`, hidden, (x) =>
      feedForward(config, weights, prefix, x),
    );
  }
  if (config.addFinalLayerNorm) hidden = layerNorm(hidden, weights, 'model.decoder.layer_norm');
  const head = config.tieWordEmbeddings
    ? config.shareEncoderDecoderEmbeddings
      ? 'model.shared'
      : 'model.decoder.embed_tokens'
    : 'lm_head';
  const logits = linear(hidden, weights, head, false);
  if (!config.finalLogitsBias) return logits;
  const bias = weight(weights, 'final_logits_bias');
  return logits.map((row) => row.map((x, v) => x + bias[v]!));
}
