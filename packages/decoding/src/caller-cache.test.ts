// GenerateOptions.cache: a cache the caller owns (HF's past_key_values), e.g. a chat's across turns.
import { useBackend } from '@tsformer/core-tensor';
import { expectNoLeak } from '@tsformer/core-tensor/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { ToyCausalLM, ToySeq2SeqLM, toyTables } from '../test/toy-models.js';
import { GenerationInputError } from './errors.js';
import { generateAll } from './generate.js';

const VOCAB = 12;
const tables = toyTables(VOCAB, 3);
const model = new ToyCausalLM(tables, { eosTokenId: 11, padTokenId: 10 });

beforeAll(async () => {
  await useBackend('wasm');
});

describe('generate with a caller-owned cache', () => {
  it('feeds only what the cache lacks, gives the same tokens, grows the cache and leaves it alive', async () => {
    await expectNoLeak(async () => {
      const firstTurn = [3, 1, 4, 1];
      const cache = model.createCache(1, 64);
      const first = await generateAll(model, { inputIds: [firstTurn] }, { maxNewTokens: 5, cache });
      // The last generated token was never fed: the cache holds everything before it.
      expect(cache.getSeqLength()).toBe(first.sequences[0]!.length - 1);

      const secondTurn = [...first.sequences[0]!, 5, 9];
      const withCache = await generateAll(model, { inputIds: [secondTurn] }, { maxNewTokens: 6, cache });
      const fromScratch = await generateAll(model, { inputIds: [secondTurn] }, { maxNewTokens: 6 });
      expect(withCache.sequences).toEqual(fromScratch.sequences);
      expect(cache.getSeqLength()).toBe(withCache.sequences[0]!.length - 1);
      cache.dispose();
    });
  });

  it('refuses what it cannot honour, naming the problem, and leaves the cache as it was', async () => {
    await expectNoLeak(async () => {
      const cache = model.createCache(1, 64);
      await generateAll(model, { inputIds: [[3, 1, 4]] }, { maxNewTokens: 2, cache });
      const held = cache.getSeqLength();
      const attempts: [Parameters<typeof generateAll>, RegExp][] = [
        [[model, { inputIds: [[3, 1]] }, { cache }], /holds 4 tokens but the prompt has 2/],
        [
          [model, { inputIds: [[3, 1, 4, 1, 5, 9]] }, { cache, numBeams: 2 }],
          /holds one row, but this generation has 2/,
        ],
        [[model, { inputIds: [[3, 1, 4, 1, 5, 9]] }, { cache, useCache: false }], /useCache false/],
        [
          [new ToySeq2SeqLM(tables, { decoderStartTokenId: 0 }), { inputIds: [[3, 1]] }, { cache }],
          /decoder-only models only/,
        ],
      ];
      for (const [args, message] of attempts) {
        const error = await generateAll(...args).catch((e) => e);
        expect(error).toBeInstanceOf(GenerationInputError);
        expect(error.message).toMatch(message);
      }
      expect(cache.getSeqLength()).toBe(held);
      cache.dispose();
    });
  });
});
