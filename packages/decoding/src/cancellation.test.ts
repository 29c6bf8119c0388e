// Cancellable generation: generate yields to the event loop between steps and honours an AbortSignal.
import type * as tf from '@tensorflow/tfjs-core';
import { TsformerError, useBackend } from '@tsformer/core-tensor';
import { expectNoLeak } from '@tsformer/core-tensor/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { ToyCausalLM, type ToyOptions, ToySeq2SeqLM, toyTables } from '../test/toy-models.js';
import { GenerationAbortedError } from './errors.js';
import { type GenerateOptions, generate, generateAll } from './generate.js';
import type { LogitsProcessor } from './processors/logits-processor.js';

const VOCAB = 12;
const EOS = 11;
const tables = toyTables(VOCAB, 5);
const model = (options: ToyOptions = {}) => new ToyCausalLM(tables, { eosTokenId: EOS }, options);
/** 50 steps, no early stop. */
const long: GenerateOptions = { maxNewTokens: 50, eosTokenId: null };

/** Calls `onCall(n)` on its n-th step, from inside the search (scores pass through unchanged). */
class StepHook implements LogitsProcessor {
  private calls = 0;
  constructor(private readonly onCall: (call: number) => void) {}
  process(_inputIds: readonly (readonly number[])[], scores: tf.Tensor2D): tf.Tensor2D {
    this.calls += 1;
    this.onCall(this.calls);
    return scores;
  }
}

async function rejection(promise: Promise<unknown>): Promise<GenerationAbortedError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(GenerationAbortedError);
  return error as GenerationAbortedError;
}

beforeAll(async () => {
  await useBackend('wasm');
});

describe('generate between steps', () => {
  it('lets a 5 ms timer fire during a long generation', async () => {
    await expectNoLeak(async () => {
      // 50 forwards of at least 1 ms each: the timer is due long before the end.
      const busy = model({ busyMsPerForward: 1 });
      let stepsWhenFired: number | undefined;
      let steps = 0;
      const timer = setTimeout(() => {
        stepsWhenFired = steps;
      }, 5);
      for await (const _ of generate(busy, { inputIds: [[3, 1, 4]] }, long)) steps += 1;
      clearTimeout(timer);
      expect(steps).toBe(50);
      expect(stepsWhenFired).toBeDefined();
      expect(stepsWhenFired!).toBeLessThan(50);
    });
  });

  it('loses a Promise.race against a timeout, and an abort then stops it', async () => {
    await expectNoLeak(async () => {
      const busy = model({ busyMsPerForward: 1 });
      const controller = new AbortController();
      const generation = generateAll(busy, { inputIds: [[3, 1, 4]] }, { ...long, signal: controller.signal });
      const timeout = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), 5));
      expect(await Promise.race([generation, timeout])).toBe('timeout');
      controller.abort(new Error('too slow'));
      const error = await rejection(generation);
      expect(error.message).toBe('generation aborted: too slow');
      expect(busy.forwardCalls).toBeLessThan(50);
    });
  });
});

describe('generate with an AbortSignal', () => {
  it('rejects before any work when the signal is already aborted', async () => {
    await expectNoLeak(async () => {
      const toy = model();
      const reason = new Error('user left');
      const error = await rejection(
        generateAll(toy, { inputIds: [[3, 1, 4]] }, { signal: AbortSignal.abort(reason) }),
      );
      expect(error).toBeInstanceOf(TsformerError);
      expect(error.name).toBe('GenerationAbortedError');
      expect(error.reason).toBe(reason);
      expect(toy.forwardCalls).toBe(0);
      expect(toy.lastCache).toBeUndefined();
      // Even inputs that would be refused are not read.
      const unread = await rejection(generateAll(toy, { inputIds: [] }, { signal: AbortSignal.abort() }));
      expect((unread.reason as DOMException).name).toBe('AbortError');
    });
  });

  it('stops a streaming caller at the next step, frees the cache and rejects its for await', async () => {
    await expectNoLeak(async () => {
      const toy = model();
      const controller = new AbortController();
      const seen: number[] = [];
      const error = await rejection(
        (async () => {
          const steps = generate(toy, { inputIds: [[3, 1, 4]] }, { ...long, signal: controller.signal });
          for await (const step of steps) {
            seen.push(step.newTokens[0]![0]!);
            if (seen.length === 3) controller.abort('enough');
          }
        })(),
      );
      expect(error.reason).toBe('enough');
      expect(seen).toHaveLength(3);
      expect(toy.forwardCalls).toBe(3);
      expect(toy.lastCache!.tokens).toBeUndefined();
    });
  });

  it('stops greedy, sampling, beam search and beam sampling at the step after the abort', async () => {
    await expectNoLeak(async () => {
      const strategies: GenerateOptions[] = [
        {},
        { doSample: true, seed: 2 },
        { numBeams: 3 },
        { numBeams: 2, doSample: true, seed: 4, numReturnSequences: 2 },
      ];
      for (const strategy of strategies) {
        const toy = model();
        const controller = new AbortController();
        // The processors run inside step 4: the abort lands during it, the search stops before step 5.
        const hook = new StepHook((call) => call === 4 && controller.abort());
        const inputs = {
          inputIds: [
            [3, 1, 4],
            [2, 7, 1],
          ],
        };
        const options = { ...long, ...strategy, logitsProcessors: [hook], signal: controller.signal };
        await rejection(generateAll(toy, inputs, options));
        expect(toy.forwardCalls).toBe(4);
        expect(toy.lastCache!.tokens).toBeUndefined();
      }
    });
  });

  it('stops between the chunks of a long prompt', async () => {
    await expectNoLeak(async () => {
      const controller = new AbortController();
      const toy = model({ onForward: (call) => call === 2 && controller.abort('stop') });
      const prompt = Array.from({ length: 20 }, (_, i) => i % 10);
      await rejection(
        generateAll(toy, { inputIds: [prompt] }, { prefillChunkSize: 4, signal: controller.signal }),
      );
      expect(toy.fedLengths).toEqual([4, 4]);
    });
  });

  it('stops an encoder-decoder generation and frees its encoder states', async () => {
    await expectNoLeak(async () => {
      const seq2seq = new ToySeq2SeqLM(tables, { decoderStartTokenId: 0, eosTokenId: EOS });
      const controller = new AbortController();
      const hook = new StepHook((call) => call === 2 && controller.abort());
      await rejection(
        generateAll(
          seq2seq,
          { inputIds: [[3, 1, 4]] },
          { ...long, numBeams: 2, logitsProcessors: [hook], signal: controller.signal },
        ),
      );
    });
  });

  it("leaves a caller's cache holding exactly the tokens fed before the abort", async () => {
    await expectNoLeak(async () => {
      const toy = model();
      const cache = toy.createCache(1, 64);
      const controller = new AbortController();
      const fed: number[] = [3, 1, 4];
      await rejection(
        (async () => {
          const steps = generate(toy, { inputIds: [fed] }, { ...long, cache, signal: controller.signal });
          for await (const step of steps) {
            fed.push(step.newTokens[0]![0]!);
            if (fed.length === 8) controller.abort();
          }
        })(),
      );
      // The last generated token was never fed: the cache holds the sequence before it.
      expect(cache.getSeqLength()).toBe(fed.length - 1);
      expect(await cache.tokens!.array()).toEqual([fed.slice(0, -1)]);
      // The conversation goes on from there and gives what a fresh read of it gives.
      const next = [...fed, 5];
      const resumed = await generateAll(toy, { inputIds: [next] }, { maxNewTokens: 4, cache });
      expect(resumed).toEqual(await generateAll(model(), { inputIds: [next] }, { maxNewTokens: 4 }));
      cache.dispose();
    });
  });
});
