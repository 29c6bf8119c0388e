// Chunked prefill: a long prompt reaches the cache prefillChunkSize tokens at a time, with the same result.
import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '@tsformer/core-tensor';
import { expectNoLeak } from '@tsformer/core-tensor/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { ToyCausalLM, toyTables } from '../../test/toy-models.js';
import { type GenerateOptions, generateAll } from '../generate.js';
import type { LogitsProcessor } from '../processors/logits-processor.js';

const PAD = 10;
const tables = toyTables(12, 21);
const model = () => new ToyCausalLM(tables, { eosTokenId: 11, padTokenId: PAD });
const prompt = Array.from({ length: 20 }, (_, i) => (i * 7) % 10);

/** Keeps a copy of the scores of the first step it sees. */
class FirstScores implements LogitsProcessor {
  scores: tf.Tensor2D | undefined;
  process(_inputIds: readonly (readonly number[])[], scores: tf.Tensor2D): tf.Tensor2D {
    this.scores ??= tf.keep(tf.clone(scores));
    return scores;
  }
}

beforeAll(async () => {
  await useBackend('wasm');
});

describe('chunked prefill', () => {
  it('feeds a long prompt in chunks and leaves the rest (1 to chunk size tokens) to the first step', async () => {
    await expectNoLeak(async () => {
      for (const [chunk, fed] of [
        [6, [6, 6, 6, 2]],
        [5, [5, 5, 5, 5]],
        [19, [19, 1]],
        [20, [20]],
        [512, [20]],
      ] as const) {
        const toy = model();
        await generateAll(
          toy,
          { inputIds: [prompt] },
          { maxNewTokens: 3, eosTokenId: null, prefillChunkSize: chunk },
        );
        expect(toy.fedLengths).toEqual([...fed, 1, 1]);
      }
    });
  });

  it('gives the same first-step scores and the same sequences as one pass, for every strategy', async () => {
    await expectNoLeak(async () => {
      const width = 20;
      const prompts = [prompt, prompt.slice(7), prompt.slice(13, 16)];
      const inputIds = prompts.map((row) => [...new Array<number>(width - row.length).fill(PAD), ...row]);
      const strategies: GenerateOptions[] = [
        {},
        { doSample: true, seed: 5 },
        { numBeams: 3, numReturnSequences: 2 },
        { numBeams: 2, doSample: true, seed: 9 },
      ];
      for (const strategy of strategies) {
        const results = [];
        for (const prefillChunkSize of [1, 3, 7, 512]) {
          const first = new FirstScores();
          const output = await generateAll(
            model(),
            { inputIds },
            { maxNewTokens: 12, ...strategy, prefillChunkSize, logitsProcessors: [first] },
          );
          results.push({ output, scores: await first.scores!.array() });
          first.scores!.dispose();
        }
        for (const result of results.slice(0, -1)) expect(result).toEqual(results.at(-1));
      }
    });
  });

  it("chunks what a caller's cache does not hold yet", async () => {
    await expectNoLeak(async () => {
      const toy = model();
      const cache = toy.createCache(1, 64);
      const first = await generateAll(toy, { inputIds: [prompt.slice(0, 5)] }, { maxNewTokens: 2, cache });
      const next = [...first.sequences[0]!, ...prompt.slice(5)];
      toy.fedLengths.length = 0;
      const cached = await generateAll(
        toy,
        { inputIds: [next] },
        { maxNewTokens: 4, cache, prefillChunkSize: 4, eosTokenId: null },
      );
      // The cache held 6 of the 22 tokens: 16 are fed, 4 at a time.
      expect(toy.fedLengths).toEqual([4, 4, 4, 4, 1, 1, 1]);
      const fresh = await generateAll(model(), { inputIds: [next] }, { maxNewTokens: 4, eosTokenId: null });
      expect(cached).toEqual(fresh);
      cache.dispose();
    });
  });

  it('reads the whole sequence every step without a cache (nothing to fill)', async () => {
    await expectNoLeak(async () => {
      const toy = model();
      await generateAll(
        toy,
        { inputIds: [prompt] },
        { maxNewTokens: 2, eosTokenId: null, useCache: false, prefillChunkSize: 4 },
      );
      expect(toy.fedLengths).toEqual([20, 21]);
    });
  });
});
