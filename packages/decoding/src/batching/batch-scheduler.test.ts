import { useBackend } from '@tsformer/core-tensor';
import { expectNoLeak } from '@tsformer/core-tensor/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { greedyReference, samplingReference } from '../../test/reference-search.js';
import { referenceLogits, type ToyCache, ToyCausalLM, toyTables } from '../../test/toy-models.js';
import { GenerationAbortedError, GenerationInputError } from '../errors.js';
import type { BatchResult } from './batch-request.js';
import { BatchScheduler } from './batch-scheduler.js';

const VOCAB = 12;
const EOS = 11;
const tables = toyTables(VOCAB, 5);
const reference = (tokens: readonly number[]) => referenceLogits(tables, tokens);

beforeAll(async () => {
  await useBackend('wasm');
});

// The toy model's logits depend on the whole masked history and on each row's position (see
// test/toy-models.ts), so a wrong mask, position or cache merge changes the tokens; the references
// are computed in plain JavaScript, one request at a time.
describe('BatchScheduler on a toy model', () => {
  it('gives each request its own tokens while requests join at different steps, wait for a row and leave', async () => {
    await expectNoLeak(async () => {
      const model = new ToyCausalLM(tables, { eosTokenId: EOS, padTokenId: 10 });
      const scheduler = new BatchScheduler(model, { maxBatch: 3 });
      const results: Promise<BatchResult>[] = [];
      const requests = [
        { prompt: [3, 1, 4], maxNewTokens: 12 },
        { prompt: [5, 9, 2, 6, 5, 3, 5], maxNewTokens: 5 },
        { prompt: [2], maxNewTokens: 9, doSample: true, seed: 17 },
        { prompt: [8, 8], maxNewTokens: 7 },
        { prompt: [1, 2, 3, 4, 5, 6, 7, 8, 9], maxNewTokens: 4, doSample: true, seed: 3 },
      ];
      let largestBatch = 0;
      const submit = (index: number, after?: () => void) => {
        const { prompt, ...options } = requests[index]!;
        let tokens = 0;
        results[index] = scheduler.submit(prompt, {
          ...options,
          onToken: () => {
            tokens += 1;
            largestBatch = Math.max(largestBatch, scheduler.stats().running);
            if (tokens === 1) after?.();
          },
        });
      };
      // 0 starts; 1 joins after 0's first token (longer: the running row is padded); 2 after 1's;
      // 3 and 4 wait for free rows.
      submit(0, () =>
        submit(1, () =>
          submit(2, () => {
            submit(3);
            submit(4);
          }),
        ),
      );
      while (results.length < requests.length) await new Promise((resolve) => setImmediate(resolve));
      const settled = await Promise.all(results);
      requests.forEach((request, index) => {
        const expected = request.doSample
          ? samplingReference(reference, request.prompt, request.maxNewTokens, request.seed!, [EOS])
          : greedyReference(reference, request.prompt, request.maxNewTokens, [EOS]);
        const result = settled[index]!;
        expect(result.sequence, `request ${index}`).toEqual([...request.prompt, ...expected]);
        expect(result.finishReason).toBe(expected.at(-1) === EOS ? 'stop' : 'length');
      });
      expect(largestBatch).toBe(3);
      // Shared steps: fewer forwards than one per generated token.
      const generated = settled.reduce((total, result) => total + result.generated.length, 0);
      expect(model.forwardCalls).toBeLessThan(generated);
      await scheduler.close();
    });
  });

  it('gives a finished row’s slot to the next request, and takes a slot nobody claims out of the cache', async () => {
    await expectNoLeak(async () => {
      const model = new ToyCausalLM(tables, { eosTokenId: null });
      const caches: ToyCache[] = [];
      const createCache = model.createCache.bind(model);
      model.createCache = (batchSize, maxLength) => {
        const cache = createCache(batchSize, maxLength);
        caches.push(cache);
        return cache;
      };
      const scheduler = new BatchScheduler(model, { maxBatch: 3 });
      const requests = [
        { prompt: [3, 1], maxNewTokens: 2 },
        { prompt: [5, 9, 2], maxNewTokens: 14 },
        { prompt: [2], maxNewTokens: 14, doSample: true, seed: 4 },
        // Arrives two steps after request 0 ended: takes its slot (no reorder). Ends at step 7; its
        // slot stays vacant until step 10, then leaves the cache (one reorder).
        { prompt: [8, 8, 8, 8, 8], maxNewTokens: 5 },
        // Arrives after that: appended as a third row.
        { prompt: [4], maxNewTokens: 2 },
      ];
      const results: Promise<BatchResult>[] = [];
      const reordersAt: number[] = [];
      const submit = (index: number) => {
        const { prompt, ...options } = requests[index]!;
        results[index] = scheduler.submit(prompt, options);
      };
      let tokensOfRequest1 = 0;
      submit(0);
      const { prompt, ...options } = requests[1]!;
      results[1] = scheduler.submit(prompt, {
        ...options,
        onToken: () => {
          tokensOfRequest1 += 1;
          reordersAt.push(caches.reduce((total, cache) => total + cache.reorders, 0));
          if (tokensOfRequest1 === 4) submit(3);
          if (tokensOfRequest1 === 13) submit(4);
        },
      });
      submit(2);
      await results[1];
      const settled = await Promise.all(results);
      requests.forEach((request, index) => {
        const expected = request.doSample
          ? samplingReference(reference, request.prompt, request.maxNewTokens, request.seed!)
          : greedyReference(reference, request.prompt, request.maxNewTokens);
        expect(settled[index]!.sequence, `request ${index}`).toEqual([...request.prompt, ...expected]);
      });
      // Request 1's tokens: the prefill's, then one a step. No reorder until step 10's turn.
      expect(reordersAt.slice(0, 11)).toEqual(new Array(11).fill(0));
      expect(reordersAt.slice(11)).toEqual([1, 1, 1]);
      await scheduler.close();
    });
  });

  it('cancels a running request at its next step and a waiting one at once', async () => {
    await expectNoLeak(async () => {
      const model = new ToyCausalLM(tables, { eosTokenId: null });
      const scheduler = new BatchScheduler(model, { maxBatch: 1 });
      const running = new AbortController();
      const waiting = new AbortController();
      const first = scheduler.submit([1, 2], {
        maxNewTokens: 30,
        signal: running.signal,
        onToken: () => {
          if (scheduler.stats().waiting === 1) {
            waiting.abort('not needed');
            running.abort('client left');
          }
        },
      });
      const second = scheduler.submit([3], { maxNewTokens: 30, signal: waiting.signal });
      await expect(second).rejects.toBeInstanceOf(GenerationAbortedError);
      await expect(first).rejects.toMatchObject({ reason: 'client left' });
      await scheduler.close();
    });
  });

  it('refuses a model whose cache cannot join rows', () => {
    const model = new ToyCausalLM(tables);
    model.createCache = () => ({
      getSeqLength: () => 0,
      crop: () => {},
      reorder: () => {},
      bytes: () => 0,
      dispose: () => {},
    });
    expect(() => new BatchScheduler(model)).toThrow(GenerationInputError);
  });
});
