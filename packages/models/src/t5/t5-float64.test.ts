// What users load beyond the fixture, against an independent float64 forward written from HF's
// modeling_t5.py with plain loops: T5 v1.1 / flan-t5 (gated-gelu, an untied head without the
// d_model^-0.5 scale, an inner width num_heads·d_kv unlike d_model, more decoder than encoder layers)
// and the original T5 (ReLU, the tied and scaled head); sequences longer than max_distance, so the
// last bucket is shared; a right-padded source; step-by-step decoding through dynamic and static caches.
import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '@tsformer/core-tensor';
import { assertClose, expectNoLeak } from '@tsformer/core-tensor/testing';
import type { CacheImplementation } from '@tsformer/decoding';
import {
  ACTIVATIONS,
  add,
  type Checkpoint,
  linear,
  type Matrix,
  randomCheckpoint,
  rmsNorm,
} from '@tsformer/models/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { resolveT5Config, type T5Config } from './t5-config.js';
import { T5ForConditionalGeneration } from './t5-model.js';

const SMALL = {
  model_type: 't5',
  vocab_size: 40,
  d_model: 12,
  d_kv: 5,
  num_heads: 3,
  d_ff: 14,
  num_layers: 2,
  num_decoder_layers: 3,
  relative_attention_num_buckets: 8,
  relative_attention_max_distance: 10,
  dropout_rate: 0.1,
  layer_norm_epsilon: 1e-6,
  pad_token_id: 0,
  eos_token_id: 1,
};
/** T5 v1.1 / flan-t5 as transformers 4 saved them: gated-gelu, `tie_word_embeddings: false`. */
const V1_1 = { ...SMALL, feed_forward_proj: 'gated-gelu', tie_word_embeddings: false };
/** The original T5: ReLU, the head tied to the shared table and its input scaled. */
const ORIGINAL = { ...SMALL, feed_forward_proj: 'relu' };

const SOURCE = [5, 17, 3, 22, 9, 31, 4, 12, 27, 8, 15, 2, 36, 11]; // 14 tokens: distances past max_distance
const SHORT_SOURCE = SOURCE.slice(0, 9);
const TARGET = [0, 7, 19, 25, 3, 33, 14, 6, 28, 10, 21, 13]; // 12 tokens

/** HF's `_relative_position_bucket`, in float64. */
function bucketOf(relative: number, bidirectional: boolean, config: T5Config): number {
  let buckets = config.relativeAttentionNumBuckets;
  let bucket = 0;
  let distance = Math.max(-relative, 0);
  if (bidirectional) {
    buckets /= 2;
    bucket = relative > 0 ? buckets : 0;
    distance = Math.abs(relative);
  }
  const exact = buckets / 2;
  if (distance < exact) return bucket + distance;
  const log = Math.log(distance / exact) / Math.log(config.relativeAttentionMaxDistance / exact);
  return bucket + Math.min(exact + Math.floor(log * (buckets - exact)), buckets - 1);
}

interface AttentionSpec {
  /** Key `j` visible to query `i`. */
  visible: (i: number, j: number) => boolean;
  /** The additive bias of head `h`, query `i`, key `j`. */
  bias: (h: number, i: number, j: number) => number;
}

/** Unscaled multi-head attention with bias-free `q/k/v/o` named `prefix`. */
function attention(
  w: Checkpoint,
  prefix: string,
  config: T5Config,
  x: Matrix,
  kv: Matrix,
  spec: AttentionSpec,
): Matrix {
  const { numHeads, headDim, dModel } = config;
  const inner = numHeads * headDim;
  const [q, k, v] = (['q', 'k', 'v'] as const).map((p) =>
    linear(p === 'q' ? x : kv, w.get(`${prefix}.${p}.weight`)!, inner),
  );
  const merged = x.map((_, i) =>
    Array.from({ length: numHeads }, (_, h) => {
      const keys = kv.map((_, j) => j).filter((j) => spec.visible(i, j));
      const scores = keys.map((j) => {
        let dot = spec.bias(h, i, j);
        for (let d = 0; d < headDim; d++) dot += q![i]![h * headDim + d]! * k![j]![h * headDim + d]!;
        return dot;
      });
      const max = Math.max(...scores);
      const weights = scores.map((s) => Math.exp(s - max));
      const total = weights.reduce((a, b) => a + b, 0);
      return Array.from({ length: headDim }, (_, d) =>
        keys.reduce((sum, j, n) => sum + (weights[n]! / total) * v![j]![h * headDim + d]!, 0),
      );
    }).flat(),
  );
  return linear(merged, w.get(`${prefix}.o.weight`)!, dModel);
}

function feedForward(w: Checkpoint, prefix: string, config: T5Config, x: Matrix): Matrix {
  const act = ACTIVATIONS[config.denseActFn]!;
  const { dFf, dModel } = config;
  const inner = config.isGatedAct
    ? (() => {
        const gate = linear(x, w.get(`${prefix}.wi_0.weight`)!, dFf);
        const up = linear(x, w.get(`${prefix}.wi_1.weight`)!, dFf);
        return gate.map((row, r) => row.map((g, c) => act(g) * up[r]![c]!));
      })()
    : linear(x, w.get(`${prefix}.wi.weight`)!, dFf).map((row) => row.map(act));
  return linear(inner, w.get(`${prefix}.wo.weight`)!, dModel);
}

/** `x + f(norm(x))` with the sub-layer's RMS norm. */
function subLayer(
  w: Checkpoint,
  prefix: string,
  config: T5Config,
  x: Matrix,
  f: (normed: Matrix) => Matrix,
): Matrix {
  return add(x, f(rmsNorm(x, w.get(`${prefix}.layer_norm.weight`)!, config.layerNormEpsilon)));
}

function embed(w: Checkpoint, config: T5Config, tokens: readonly number[]): Matrix {
  const table = w.get('shared.weight')!;
  return tokens.map((id) => table.slice(id * config.dModel, (id + 1) * config.dModel));
}

/** The stack's bias table (block 0) as a function of head, query position and key position. */
function relativeBias(w: Checkpoint, stack: string, config: T5Config, bidirectional: boolean) {
  const table = w.get(`${stack}.block.0.layer.0.SelfAttention.relative_attention_bias.weight`)!;
  return (h: number, i: number, j: number) =>
    table[bucketOf(j - i, bidirectional, config) * config.numHeads + h]!;
}

/** The encoder output of `source` padded to `length` (padding keys masked). */
function encode(w: Checkpoint, config: T5Config, source: readonly number[], length: number): Matrix {
  const tokens = [...source, ...Array(length - source.length).fill(config.padTokenId)];
  const spec = {
    visible: (_: number, j: number) => j < source.length,
    bias: relativeBias(w, 'encoder', config, true),
  };
  let hidden = embed(w, config, tokens);
  for (let l = 0; l < config.numLayers; l++) {
    const p = `encoder.block.${l}.layer`;
    hidden = subLayer(w, `${p}.0`, config, hidden, (x) =>
      attention(w, `${p}.0.SelfAttention`, config, x, x, spec),
    );
    hidden = subLayer(w, `${p}.1`, config, hidden, (x) => feedForward(w, `${p}.1.DenseReluDense`, config, x));
  }
  return rmsNorm(hidden, w.get('encoder.final_layer_norm.weight')!, config.layerNormEpsilon);
}

/** Logits `[target, vocab]` of `target` over the encoding of `source` (padded to `sourceLength`). */
function referenceLogits(
  w: Checkpoint,
  config: T5Config,
  source: readonly number[],
  target: readonly number[],
  sourceLength = source.length,
): Matrix {
  const encoded = encode(w, config, source, sourceLength);
  const self = { visible: (i: number, j: number) => j <= i, bias: relativeBias(w, 'decoder', config, false) };
  const cross = { visible: (_: number, j: number) => j < source.length, bias: () => 0 };
  let hidden = embed(w, config, target);
  for (let l = 0; l < config.numDecoderLayers; l++) {
    const p = `decoder.block.${l}.layer`;
    hidden = subLayer(w, `${p}.0`, config, hidden, (x) =>
      attention(w, `${p}.0.SelfAttention`, config, x, x, self),
    );
    hidden = subLayer(w, `${p}.1`, config, hidden, (x) =>
      attention(w, `${p}.1.EncDecAttention`, config, x, encoded, cross),
    );
    hidden = subLayer(w, `${p}.2`, config, hidden, (x) => feedForward(w, `${p}.2.DenseReluDense`, config, x));
  }
  hidden = rmsNorm(hidden, w.get('decoder.final_layer_norm.weight')!, config.layerNormEpsilon);
  if (config.scaleDecoderOutputs) hidden = hidden.map((row) => row.map((x) => x * config.dModel ** -0.5));
  const head = config.tieWordEmbeddings ? 'shared.weight' : 'lm_head.weight';
  return linear(hidden, w.get(head)!, config.vocabSize);
}

const ids = (rows: number[][]) => tf.tensor2d(rows, undefined, 'int32');

beforeAll(async () => {
  await useBackend('wasm');
});

describe.each([
  { name: 'T5 v1.1 / flan-t5 (gated-gelu, untied unscaled head)', raw: V1_1, seed: 11 },
  { name: 'the original T5 (ReLU, tied head scaled by d_model^-0.5)', raw: ORIGINAL, seed: 12 },
])('$name against a float64 forward', ({ raw, seed }) => {
  const config = resolveT5Config(raw);

  it('resolves the head and feed-forward the checkpoint needs', () => {
    const gated = raw.feed_forward_proj === 'gated-gelu';
    expect(config).toMatchObject({
      isGatedAct: gated,
      denseActFn: gated ? 'gelu_new' : 'relu',
      tieWordEmbeddings: !gated,
      scaleDecoderOutputs: !gated,
    });
  });

  it('gives the logits and encoder output of a right-padded batch', async () => {
    const model = new T5ForConditionalGeneration(config);
    const weights = randomCheckpoint(model, seed);
    expect(model.lmHead.weight === model.shared.weight).toBe(config.tieWordEmbeddings);
    await expectNoLeak(() => {
      const inputIds = ids([
        SOURCE,
        [...SHORT_SOURCE, ...Array(SOURCE.length - SHORT_SOURCE.length).fill(0)],
      ]);
      const attentionMask = ids([
        SOURCE.map(() => 1),
        SOURCE.map((_, i) => (i < SHORT_SOURCE.length ? 1 : 0)),
      ]);
      const decoderInputIds = ids([TARGET, TARGET]);
      const out = model.forward({ inputIds, attentionMask, decoderInputIds, outputHiddenStates: true });
      expect(out.decoderHiddenStates).toHaveLength(config.numDecoderLayers + 1);
      const [full, short] = tf.unstack(out.logits);
      assertClose(full!, referenceLogits(weights, config, SOURCE, TARGET).flat(), 1e-4, 'row 0 logits');
      assertClose(
        short!,
        referenceLogits(weights, config, SHORT_SOURCE, TARGET, SOURCE.length).flat(),
        1e-4,
        'padded row 1 logits',
      );
      const encoded = tf.unstack(out.encoderLastHiddenState);
      assertClose(encoded[0]!, encode(weights, config, SOURCE, SOURCE.length).flat(), 1e-4, 'encoder output');
      tf.dispose([inputIds, attentionMask, decoderInputIds, full!, short!, ...encoded]);
      tf.dispose(out as unknown as tf.TensorContainer);
    });
    model.dispose();
  });

  it.each(['dynamic', 'static'] as CacheImplementation[])(
    'decodes step by step through a %s cache to the same logits',
    async (implementation) => {
      const model = new T5ForConditionalGeneration(config);
      const weights = randomCheckpoint(model, seed);
      const expected = referenceLogits(weights, config, SOURCE, TARGET);
      await expectNoLeak(() => {
        const inputIds = ids([SOURCE]);
        const { lastHiddenState } = model.encode(inputIds);
        const cache = model.createCache(1, TARGET.length + 3, implementation);
        const chunks = [TARGET.slice(0, 4), ...TARGET.slice(4).map((id) => [id])];
        let position = 0;
        for (const chunk of chunks) {
          const stepIds = ids([chunk]);
          const logits = model.decodeLogits({
            decoderInputIds: stepIds,
            encoderHiddenStates: lastHiddenState,
            cache,
          });
          const rows = expected.slice(position, position + chunk.length).flat();
          assertClose(logits, rows, 1e-4, `${implementation} cache, position ${position}`);
          position += chunk.length;
          tf.dispose([stepIds, logits]);
        }
        cache.dispose();
        tf.dispose([inputIds, lastHiddenState]);
      });
      model.dispose();
    },
  );
});
