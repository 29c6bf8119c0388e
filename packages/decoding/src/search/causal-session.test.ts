// CausalLM.reusesCache: a model that declares its cached keys stale (Phi-3's longrope once the sequence
// outgrows the pretraining length) gets the whole sequence again, on a cache emptied for it, exactly
// once; the tokens are those of a generation without a cache.
import type { Cache } from '@tsformer/cache';
import { useBackend } from '@tsformer/core-tensor';
import { expectNoLeak } from '@tsformer/core-tensor/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { ToyCausalLM, toyTables } from '../../test/toy-models.js';
import { generateAll } from '../generate.js';
import type { CausalLMForwardInputs } from '../language-model.js';

/** Where the toy's cached keys go stale: the step that first passes 6 tokens recomputes them. */
const LIMIT = 6;

/** The toy model, recording each forward's fed tokens and the cache length it found. */
class RecomputingToy extends ToyCausalLM {
  readonly feeds: { fed: number; cached: number; cache: Cache | undefined }[] = [];

  reusesCache(cachedLength: number, length: number): boolean {
    return !(length > LIMIT && cachedLength <= LIMIT);
  }

  override forwardLogits(inputs: CausalLMForwardInputs) {
    const { cache } = inputs;
    this.feeds.push({ fed: inputs.inputIds.shape[1], cached: cache?.getSeqLength() ?? 0, cache });
    return super.forwardLogits(inputs);
  }
}

const tables = toyTables(12, 5);
const prompt = [3, 1, 4, 1];

beforeAll(async () => {
  await useBackend('wasm');
});

describe('a model whose cached keys go stale', () => {
  it.each([
    ['greedy', {}],
    ['beam search', { numBeams: 2, numReturnSequences: 2 }],
  ])(
    '%s: feeds the whole sequence on a fresh cache once, then one token a step, with the tokens of no cache',
    async (_, search) => {
      await expectNoLeak(async () => {
        const options = { maxNewTokens: 6, ...search };
        const model = new RecomputingToy(tables);
        const cached = await generateAll(model, { inputIds: [prompt] }, options);
        const uncached = await generateAll(
          new ToyCausalLM(tables),
          { inputIds: [prompt] },
          { ...options, useCache: false },
        );
        expect(cached.sequences).toEqual(uncached.sequences);
        expect(model.feeds.map(({ fed, cached }) => [fed, cached])).toEqual([
          [4, 0],
          [1, 4],
          [1, 5],
          [7, 0], // 7 tokens > 6 with 6 cached: everything again
          [1, 7],
          [1, 8],
        ]);
        expect(model.feeds[3]!.cache).not.toBe(model.feeds[2]!.cache); // an owned cache is replaced
      });
    },
  );

  it("empties a caller's cache in place and leaves it holding the sequence", async () => {
    await expectNoLeak(async () => {
      const model = new RecomputingToy(tables);
      const cache = model.createCache(1, 64);
      const output = await generateAll(model, { inputIds: [prompt] }, { maxNewTokens: 6, cache });
      expect(model.feeds.map(({ fed }) => fed)).toEqual([4, 1, 1, 7, 1, 1]);
      expect(model.feeds.every((feed) => feed.cache === cache)).toBe(true);
      expect(cache.getSeqLength()).toBe(output.sequences[0]!.length - 1);
      const plain = await generateAll(new ToyCausalLM(tables), { inputIds: [prompt] }, { maxNewTokens: 6 });
      expect(output.sequences).toEqual(plain.sequences);
      cache.dispose();
    });
  });

  it('recomputes a caller-cached prompt that already passes the limit', async () => {
    await expectNoLeak(async () => {
      const model = new RecomputingToy(tables);
      const cache = model.createCache(1, 64);
      await generateAll(model, { inputIds: [prompt] }, { maxNewTokens: 1, cache }); // caches 4 tokens
      model.feeds.length = 0;
      await generateAll(model, { inputIds: [[...prompt, 9, 2, 7]] }, { maxNewTokens: 2, cache });
      expect(model.feeds.map(({ fed, cached }) => [fed, cached])).toEqual([
        [7, 0],
        [1, 7],
      ]);
      cache.dispose();
    });
  });
});
