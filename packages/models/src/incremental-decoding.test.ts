import * as tf from '@tensorflow/tfjs-core';
import type { DecoderCache } from '@tsformer/cache';
import { useBackend } from '@tsformer/core-tensor';
import { assertClose, expectNoLeak, randomWeights } from '@tsformer/core-tensor/testing';
import type { CacheImplementation } from '@tsformer/decoding';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DECODER_FIXTURES, ids } from '../test/decoder-fixtures.js';
import type { PretrainedCausalLM } from './causal-lm.js';
import { fromPretrained } from './from-pretrained.js';
import { LlamaForCausalLM } from './llama/llama-model.js';
import { resolveMistralConfig } from './mistral/mistral-config.js';
import { resolveQwen2Config } from './qwen2/qwen2-config.js';

const STEPS = 20;
const models: Record<string, PretrainedCausalLM> = {};

/** A small Llama-shaped config for the sliding-window families (random weights). */
const tiny = {
  vocab_size: 96,
  hidden_size: 32,
  intermediate_size: 48,
  num_hidden_layers: 2,
  num_attention_heads: 4,
  num_key_value_heads: 2,
  max_position_embeddings: 64,
  bos_token_id: null,
  eos_token_id: null,
};

beforeAll(async () => {
  await useBackend('wasm');
  models.gpt2 = (await fromPretrained(DECODER_FIXTURES.gpt2)).model as PretrainedCausalLM;
  models.llama = (await fromPretrained(DECODER_FIXTURES.llama)).model as PretrainedCausalLM;
  // Every layer slides over 5 positions: shorter than the prompt, so prefill and decode both drop keys.
  models.mistral = new LlamaForCausalLM(resolveMistralConfig({ ...tiny, sliding_window: 5 }));
  // Layer 1 slides over 4 positions, layer 0 attends to everything.
  models.qwen2 = new LlamaForCausalLM(
    resolveQwen2Config({ ...tiny, use_sliding_window: true, sliding_window: 4, max_window_layers: 1 }),
  );
  randomWeights(models.mistral, 1, 0.3);
  randomWeights(models.qwen2, 2, 0.3);
  for (const model of Object.values(models)) tf.dispose(model.forward(ids([[0]])).logits); // fills cos/sin tables
});

afterAll(() => {
  for (const model of Object.values(models)) model.dispose();
});

/** `count` token ids below `vocab`, spread deterministically. */
function tokens(count: number, vocab: number, seed: number): number[] {
  return Array.from({ length: count }, (_, i) => (seed * 7919 + i * 104729) % vocab);
}

/**
 * Prefills `prompt` then feeds the continuation one token at a time through `cache`; the logits of
 * each position must equal those of one full forward over the whole sequence.
 */
function expectIncrementalEqualsFull(
  model: PretrainedCausalLM,
  sequence: number[],
  promptLength: number,
  cache: DecoderCache,
): void {
  const all = ids([sequence]);
  const full = model.forward(all).logits; // [1, seq, vocab]
  const prompt = ids([sequence.slice(0, promptLength)]);
  const prefill = model.forward(prompt, { cache }).logits;
  assertClose(prefill, tf.slice(full, [0, 0, 0], [1, promptLength, -1]), 1e-4, 'prefill');
  tf.dispose([prompt, prefill]);
  for (let position = promptLength; position < sequence.length; position++) {
    const token = ids([[sequence[position]!]]);
    const step = model.forward(token, { cache }).logits;
    assertClose(step, tf.slice(full, [0, position, 0], [1, 1, -1]), 1e-4, `step at position ${position}`);
    tf.dispose([token, step]);
  }
  expect(cache.getSeqLength()).toBe(sequence.length);
  tf.dispose([all, full]);
}

const cases: [string, CacheImplementation][] = [
  ['gpt2', 'dynamic'],
  ['gpt2', 'static'],
  ['llama', 'dynamic'],
  ['llama', 'static'],
  ['mistral', 'dynamic'],
  ['mistral', 'static'],
  ['qwen2', 'dynamic'],
];

describe('incremental decoding through a cache equals one full forward', () => {
  it.each(cases)('%s with a %s cache, 20 steps', async (name, implementation) => {
    await expectNoLeak(() => {
      const model = models[name]!;
      const sequence = tokens(7 + STEPS, model.vocabSize, 3);
      const cache = model.createCache(1, sequence.length + 3, implementation);
      tf.tidy(() => expectIncrementalEqualsFull(model, sequence, 7, cache));
      cache.dispose();
    });
  });

  it('uses a sliding-window cache for sliding layers (mistral keeps only window - 1 positions)', () => {
    const cache = models.mistral!.createCache(1, 40);
    expect(cache.layer(0).constructor.name).toBe('SlidingWindowLayerCache');
    const mixed = models.qwen2!.createCache(1, 40, 'static');
    expect([mixed.layer(0).constructor.name, mixed.layer(1).constructor.name]).toEqual([
      'StaticLayerCache',
      'SlidingWindowLayerCache',
    ]);
    cache.dispose();
    mixed.dispose();
  });

  it('decodes a left-padded batch like each row alone (attention mask and position ids)', async () => {
    await expectNoLeak(() => {
      const model = models.llama!;
      const rows = [tokens(9, model.vocabSize, 5), tokens(6, model.vocabSize, 6)];
      const continuation = [tokens(STEPS, model.vocabSize, 7), tokens(STEPS, model.vocabSize, 8)];
      const width = 9;
      const padded = rows.map((row) => [...Array(width - row.length).fill(1), ...row]);
      const mask = rows.map((row) => [...Array(width - row.length).fill(0), ...Array(row.length).fill(1)]);
      const cache = model.createCache(2, width + STEPS);
      tf.tidy(() => expectBatchEqualsRows(model, cache, rows, continuation, padded, mask));
      cache.dispose();
    });
  });
});

/** The padded batch decoded step by step through `cache` gives each row's logits computed alone. */
function expectBatchEqualsRows(
  model: PretrainedCausalLM,
  cache: DecoderCache,
  rows: number[][],
  continuation: number[][],
  padded: number[][],
  mask: number[][],
): void {
  const positionsOf = (maskRow: number[]) => {
    let seen = -1;
    return maskRow.map((bit) => (bit ? ++seen : 1)); // HF: cumsum - 1, padding set to 1
  };
  const batchLogits: tf.Tensor[] = [];
  let fullMask = mask.map((row) => [...row]);
  const first = model.forward(ids(padded), {
    cache,
    attentionMask: tf.tensor2d(fullMask, undefined, 'int32'),
    positionIds: ids(fullMask.map(positionsOf)),
    maxPosition: Math.max(...fullMask.flatMap(positionsOf)),
    logitsToKeep: 1,
  }).logits;
  batchLogits.push(first);
  for (let step = 0; step < STEPS; step++) {
    fullMask = fullMask.map((row) => [...row, 1]);
    const positions = fullMask.map((row) => [positionsOf(row).at(-1)!]);
    batchLogits.push(
      model.forward(ids(continuation.map((row) => [row[step]!])), {
        cache,
        attentionMask: tf.tensor2d(fullMask, undefined, 'int32'),
        positionIds: ids(positions),
        maxPosition: Math.max(...positions.flat()),
      }).logits,
    );
  }
  rows.forEach((row, index) => {
    const alone = model.forward(ids([[...row, ...continuation[index]!]])).logits;
    batchLogits.forEach((logits, step) => {
      const expected = tf.slice(alone, [0, row.length - 1 + step, 0], [1, 1, -1]);
      assertClose(tf.slice(logits, [index, 0, 0], [1, 1, -1]), expected, 1e-4, `row ${index} step ${step}`);
    });
  });
}
