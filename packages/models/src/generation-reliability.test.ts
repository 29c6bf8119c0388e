// generate on the real model classes: chunked prefill gives what one pass gives (full, sliding and mixed
// layers, left-padded batches, dynamic and static caches), and concurrent calls do not disturb each other.
import * as tf from '@tensorflow/tfjs-core';
import { MASKED_SCORE } from '@tsformer/attention';
import { LayeredCache, SlidingWindowLayerCache } from '@tsformer/cache';
import { useBackend } from '@tsformer/core-tensor';
import { assertClose, expectNoLeak, randomWeights } from '@tsformer/core-tensor/testing';
import {
  type CacheImplementation,
  type GenerateOptions,
  generateAll,
  type LogitsProcessor,
} from '@tsformer/decoding';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DECODER_FIXTURES } from '../test/decoder-fixtures.js';
import type { PretrainedCausalLM } from './causal-lm.js';
import { ForwardStep } from './forward-step.js';
import { fromPretrained } from './from-pretrained.js';
import { LlamaForCausalLM } from './llama/llama-model.js';
import { resolveMistralConfig } from './mistral/mistral-config.js';
import { resolveQwen2Config } from './qwen2/qwen2-config.js';

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
  models['tiny-llama-docs'] = (await fromPretrained(DECODER_FIXTURES['tiny-llama-docs']))
    .model as PretrainedCausalLM;
  // Every layer slides over 5 positions; qwen2: layer 1 slides over 4, layer 0 sees everything.
  models.mistral = new LlamaForCausalLM(resolveMistralConfig({ ...tiny, sliding_window: 5 }));
  models.qwen2 = new LlamaForCausalLM(
    resolveQwen2Config({ ...tiny, use_sliding_window: true, sliding_window: 4, max_window_layers: 1 }),
  );
  randomWeights(models.mistral, 1, 0.3);
  randomWeights(models.qwen2, 2, 0.3);
  for (const model of Object.values(models)) tf.dispose(model.forward(tf.zeros([1, 1], 'int32')).logits);
});

afterAll(() => {
  for (const model of Object.values(models)) model.dispose();
});

/** `count` token ids below `vocab`, spread deterministically. */
function tokens(count: number, vocab: number, seed: number): number[] {
  return Array.from({ length: count }, (_, i) => (seed * 7919 + i * 104729) % vocab);
}

/** Keeps a copy of the scores of the first step: the logits of the prompt's last position. */
class FirstLogits implements LogitsProcessor {
  logits: tf.Tensor2D | undefined;
  process(_inputIds: readonly (readonly number[])[], scores: tf.Tensor2D): tf.Tensor2D {
    this.logits ??= tf.keep(tf.clone(scores));
    return scores;
  }
}

/** Greedy generation with `prefillChunkSize`: the sequences and the first step's logits. */
async function greedy(
  model: PretrainedCausalLM,
  inputIds: number[][],
  attentionMask: number[][],
  options: GenerateOptions,
): Promise<{ sequences: number[][]; logits: tf.Tensor2D }> {
  const first = new FirstLogits();
  const { sequences } = await generateAll(
    model,
    { inputIds, attentionMask },
    { maxNewTokens: 10, eosTokenId: null, logitsProcessors: [first], ...options },
  );
  return { sequences, logits: first.logits! };
}

async function expectChunkedEqualsOnePass(
  model: PretrainedCausalLM,
  inputIds: number[][],
  attentionMask: number[][],
  cacheImplementation: CacheImplementation,
): Promise<void> {
  const onePass = await greedy(model, inputIds, attentionMask, { cacheImplementation });
  for (const prefillChunkSize of [3, 8]) {
    const chunked = await greedy(model, inputIds, attentionMask, { cacheImplementation, prefillChunkSize });
    expect(chunked.sequences).toEqual(onePass.sequences);
    assertClose(chunked.logits, onePass.logits, 1e-4, `last prompt logits, chunks of ${prefillChunkSize}`);
    chunked.logits.dispose();
  }
  onePass.logits.dispose();
}

describe('chunked prefill on the model classes', () => {
  const cases: [string, CacheImplementation][] = [
    ['gpt2', 'dynamic'],
    ['gpt2', 'static'],
    ['llama', 'dynamic'],
    ['tiny-llama-docs', 'dynamic'],
    ['tiny-llama-docs', 'static'],
    ['mistral', 'dynamic'],
    ['qwen2', 'dynamic'],
    ['qwen2', 'static'],
  ];

  it.each(cases)('%s with a %s cache: the same greedy tokens and last logits', async (name, cache) => {
    await expectNoLeak(async () => {
      const model = models[name]!;
      const prompt = tokens(29, model.vocabSize, 3);
      await expectChunkedEqualsOnePass(model, [prompt], [prompt.map(() => 1)], cache);
    });
  });

  it.each(['llama', 'qwen2', 'mistral'])('%s: a left-padded batch, row by row', async (name) => {
    await expectNoLeak(async () => {
      const model = models[name]!;
      const rows = [
        tokens(23, model.vocabSize, 5),
        tokens(9, model.vocabSize, 6),
        tokens(17, model.vocabSize, 7),
      ];
      const width = 23;
      const inputIds = rows.map((row) => [...new Array<number>(width - row.length).fill(0), ...row]);
      const attentionMask = rows.map((row) => [
        ...new Array<number>(width - row.length).fill(0),
        ...row.map(() => 1),
      ]);
      await expectChunkedEqualsOnePass(model, inputIds, attentionMask, 'dynamic');
    });
  });
});

describe("ForwardStep's mask under a sliding-window cache (keyStart > 0)", () => {
  it('hides exactly the keys a float64 reading of the rule hides, chunk after chunk', () => {
    const [batch, window, chunk] = [2, 5, 3];
    // Row 0 is left-padded by 4 positions.
    const padding = [[0, 0, 0, 0, ...new Array<number>(14).fill(1)], new Array<number>(18).fill(1)];
    const cache = new LayeredCache(1, () => new SlidingWindowLayerCache(window));
    const keyStarts: number[] = [];
    for (let start = 0; start < 18; start += chunk) {
      tf.tidy(() => {
        const seen = start + chunk;
        const step = new ForwardStep(tf.zeros([batch, chunk], 'int32'), [1], {
          cache,
          attentionMask: tf.tensor2d(
            padding.map((row) => row.slice(0, seen)),
            [batch, seen],
            'int32',
          ),
        });
        const keyValues = step.keyValues(0, tf.zeros([batch, 1, chunk, 2]), tf.zeros([batch, 1, chunk, 2]));
        const { keyStart, keyLength } = keyValues;
        keyStarts.push(keyStart);
        const expected = padding.map((row) =>
          Array.from({ length: chunk }, (_, q) =>
            Array.from({ length: keyLength }, (_, k) => {
              const [queryPosition, keyPosition] = [start + q, keyStart + k];
              const visible =
                keyPosition <= queryPosition &&
                queryPosition - keyPosition < window &&
                row[keyPosition] === 1;
              return visible ? 0 : MASKED_SCORE;
            }),
          ),
        );
        const mask = step.mask(keyValues, window)!; // [batch, 1, chunk, keys]
        expect(tf.squeeze(mask, [1]).arraySync()).toEqual(
          expected.map((rows) => rows.map((r) => r.map(Math.fround))),
        );
      });
    }
    expect(keyStarts).toEqual([0, 0, 2, 5, 8, 11]);
    cache.dispose();
  });
});

describe('concurrent generation on one model', () => {
  it('gives each of 4 concurrent calls on tiny-llama-docs what it gives alone (greedy and seeded sampling)', async () => {
    await expectNoLeak(async () => {
      const model = models['tiny-llama-docs']!;
      const prompt = (seed: number) => [tokens(12, model.vocabSize, seed)];
      const calls: [number[][], GenerateOptions][] = [
        [prompt(1), { maxNewTokens: 16 }],
        [prompt(2), { maxNewTokens: 16, doSample: true, seed: 1, topK: 20 }],
        [prompt(3), { maxNewTokens: 16, doSample: true, seed: 2, topP: 0.8 }],
        [prompt(4), { maxNewTokens: 16, cacheImplementation: 'static' }],
      ];
      const alone = [];
      for (const [inputIds, options] of calls) alone.push(await generateAll(model, { inputIds }, options));
      const together = await Promise.all(
        calls.map(([inputIds, options]) => generateAll(model, { inputIds }, options)),
      );
      expect(together).toEqual(alone);
    });
  });
});

describe('generations dropped without return()', () => {
  it("are freed by the model's dispose: the tensor count is back where it was before the model", async () => {
    const before = tf.memory().numTensors;
    const model = new LlamaForCausalLM(resolveMistralConfig({ ...tiny, sliding_window: 5 }));
    randomWeights(model, 3, 0.3);
    for (const seed of [1, 2, 3]) {
      const iterator = model.generate({ inputIds: [tokens(6, tiny.vocab_size, seed)] }, { maxNewTokens: 8 });
      await iterator.next(); // one step taken, then the iterator is dropped: its cache stays alive
    }
    expect(tf.memory().numTensors).toBeGreaterThan(before + model.parameters().length);
    model.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
