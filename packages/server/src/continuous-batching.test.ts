// The server's engine is decoding's BatchScheduler; these tests hold it against `generate` on real
// model families (which decoding's own tests cannot load): every request's tokens must be those it
// gets alone, whatever joins and leaves the batch around it.
import * as tf from '@tensorflow/tfjs-core';
import { SeededRandom } from '@tsformer/core-tensor';
import { expectNoLeak } from '@tsformer/core-tensor/testing';
import {
  BatchQueueFullError,
  type BatchRequestOptions,
  type BatchResult,
  BatchScheduler,
  type CausalLM,
  GenerationAbortedError,
  generateAll,
} from '@tsformer/decoding';
import { fromPretrained, type PretrainedCausalLM } from '@tsformer/models';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const FIXTURES = new URL('../../../fixtures/hf-reference/', import.meta.url).pathname;

/** A request, and when it is submitted: at the start, or after another request's n-th token. */
interface Plan {
  prompt: number[];
  options: BatchRequestOptions;
  after?: { request: number; tokens: number };
  /** Abort it after its n-th token. */
  cancelAfter?: number;
}

function randomPrompt(random: SeededRandom, length: number, vocabSize: number, avoid: number[]): number[] {
  const prompt: number[] = [];
  while (prompt.length < length) {
    const id = Math.floor(random.uniform() * vocabSize);
    if (!avoid.includes(id)) prompt.push(id);
  }
  return prompt;
}

/** Submits the planned requests (each when its trigger fires) and settles them all. */
async function runPlans(
  scheduler: BatchScheduler,
  plans: readonly Plan[],
  onAnyToken: () => void,
): Promise<PromiseSettledResult<BatchResult>[]> {
  const results: Promise<BatchResult>[] = new Array(plans.length);
  const tokenCounts = plans.map(() => 0);
  const controllers = plans.map(() => new AbortController());
  let submittedAll: () => void;
  const allSubmitted = new Promise<void>((resolve) => {
    submittedAll = resolve;
  });
  let submitted = 0;
  const submit = (index: number) => {
    const plan = plans[index]!;
    results[index] = scheduler.submit(plan.prompt, {
      ...plan.options,
      signal: controllers[index]!.signal,
      onToken: () => {
        tokenCounts[index]! += 1;
        onAnyToken();
        if (plan.cancelAfter === tokenCounts[index]) controllers[index]!.abort(new Error('client left'));
        plans.forEach((other, otherIndex) => {
          if (other.after?.request === index && other.after.tokens === tokenCounts[index]) submit(otherIndex);
        });
      },
    });
    results[index].catch(() => {});
    submitted += 1;
    if (submitted === plans.length) submittedAll();
  };
  plans.forEach((plan, index) => {
    if (plan.after === undefined) submit(index);
  });
  await allSubmitted;
  return Promise.allSettled(results);
}

// gemma2 alternates sliding-window layers (window 6, shorter than these requests) with full ones.
for (const family of ['llama', 'gpt2', 'gemma2'] as const) {
  describe(`continuous batching on the ${family} fixture`, () => {
    let model: PretrainedCausalLM;

    beforeAll(async () => {
      const loaded = await fromPretrained(`${FIXTURES}${family}`, { backend: 'wasm' });
      model = loaded.model as PretrainedCausalLM;
    });

    afterAll(() => {
      model?.dispose();
    });

    it('gives every request the tokens `generate` gives it alone, across joins, leaves and cancellations', async () => {
      await expectNoLeak(async () => {
        const random = new SeededRandom({ llama: 11, gpt2: 12, gemma2: 13 }[family]);
        const eos = (model.generationConfig?.eosTokenId ?? []) as number[] | number;
        const avoid = Array.isArray(eos) ? eos : [eos];
        const prompt = (length: number) => randomPrompt(random, length, model.vocabSize, avoid);
        const plans: Plan[] = [
          { prompt: prompt(5), options: { maxNewTokens: 14 } },
          {
            prompt: prompt(2),
            options: { maxNewTokens: 9, doSample: true, seed: 7, temperature: 0.8, topK: 20 },
          },
          // Longer than the running rows: they get padded on the left when it joins.
          { prompt: prompt(13), options: { maxNewTokens: 6 }, after: { request: 0, tokens: 3 } },
          {
            prompt: prompt(4),
            options: {
              maxNewTokens: 10,
              repetitionPenalty: 1.3,
              doSample: true,
              seed: 3,
              topP: 0.9,
              minP: 0.01,
            },
            after: { request: 0, tokens: 5 },
          },
          // Waits for a free row (maxBatch 3), joins after two have left.
          { prompt: prompt(1), options: { maxNewTokens: 12 }, after: { request: 0, tokens: 6 } },
          {
            prompt: prompt(7),
            options: { maxNewTokens: 20 },
            after: { request: 1, tokens: 2 },
            cancelAfter: 3,
          },
          {
            prompt: prompt(3),
            options: { maxNewTokens: 8, noRepeatNgramSize: 2 },
            after: { request: 2, tokens: 4 },
          },
        ];
        const scheduler = new BatchScheduler(model, { maxBatch: 3 });
        let largestBatch = 0;
        const settled = await runPlans(scheduler, plans, () => {
          largestBatch = Math.max(largestBatch, scheduler.stats().running);
        });
        expect(largestBatch).toBe(3);
        for (const [index, plan] of plans.entries()) {
          const outcome = settled[index]!;
          if (plan.cancelAfter !== undefined) {
            expect(outcome.status).toBe('rejected');
            expect((outcome as PromiseRejectedResult).reason).toBeInstanceOf(GenerationAbortedError);
            continue;
          }
          expect(outcome.status, `request ${index}`).toBe('fulfilled');
          const { sequence, generated, finishReason } = (outcome as PromiseFulfilledResult<BatchResult>)
            .value;
          const alone = await generateAll(model, { inputIds: [plan.prompt] }, plan.options);
          expect(sequence, `request ${index}`).toEqual(alone.sequences[0]);
          expect(generated.map((token) => token.id)).toEqual(sequence.slice(plan.prompt.length));
          expect(finishReason).toBe(
            sequence.length === plan.prompt.length + plan.options.maxNewTokens! ? 'length' : 'stop',
          );
        }
        expect(scheduler.stats()).toMatchObject({ waiting: 0, running: 0 });
        await scheduler.close();
      });
    });

    it('prefills requests that arrive together in one forward, joining the running batch as a group', async () => {
      await expectNoLeak(async () => {
        const random = new SeededRandom({ llama: 21, gpt2: 22, gemma2: 23 }[family]);
        const eos = (model.generationConfig?.eosTokenId ?? []) as number[] | number;
        const avoid = Array.isArray(eos) ? eos : [eos];
        const prompt = (length: number) => randomPrompt(random, length, model.vocabSize, avoid);
        const plans: Plan[] = [
          // Three at once: one padded prefill of prompts 4, 9 and 1 tokens long.
          { prompt: prompt(4), options: { maxNewTokens: 16 } },
          { prompt: prompt(9), options: { maxNewTokens: 3 } },
          {
            prompt: prompt(1),
            options: { maxNewTokens: 11, doSample: true, seed: 5, temperature: 0.7 },
            cancelAfter: 6,
          },
          // Two join the running batch together after request 0's 4th token (request 1 has left):
          // one shorter than the batch's rows, one longer.
          {
            prompt: prompt(2),
            options: { maxNewTokens: 9, repetitionPenalty: 1.2 },
            after: { request: 0, tokens: 4 },
          },
          { prompt: prompt(17), options: { maxNewTokens: 7 }, after: { request: 0, tokens: 4 } },
          // Three more when request 3 is half done (0, 3 and 4 run; 2 was cancelled): two rows are free
          // (maxBatch 5), so one waits for a row.
          { prompt: prompt(6), options: { maxNewTokens: 5 }, after: { request: 3, tokens: 4 } },
          {
            prompt: prompt(3),
            options: { maxNewTokens: 8, minNewTokens: 8 },
            after: { request: 3, tokens: 4 },
          },
          { prompt: prompt(5), options: { maxNewTokens: 6 }, after: { request: 3, tokens: 4 } },
        ];
        const prefillRows: number[] = [];
        const forward = model.forwardLogits;
        const counting = Object.create(model) as PretrainedCausalLM;
        counting.forwardLogits = (inputs) => {
          if (inputs.inputIds.shape[1] > 1) prefillRows.push(inputs.inputIds.shape[0]);
          return forward.call(model, inputs);
        };
        const scheduler = new BatchScheduler(counting, { maxBatch: 5 });
        const settled = await runPlans(scheduler, plans, () => {});
        // Groups were prefilled together: 3 at the start, then 2, then 2, then the one that waited.
        expect(prefillRows).toEqual([3, 2, 2, 1]);
        for (const [index, plan] of plans.entries()) {
          const outcome = settled[index]!;
          if (plan.cancelAfter !== undefined) {
            expect((outcome as PromiseRejectedResult).reason).toBeInstanceOf(GenerationAbortedError);
            continue;
          }
          expect(outcome.status, `request ${index}`).toBe('fulfilled');
          const { sequence } = (outcome as PromiseFulfilledResult<BatchResult>).value;
          const alone = await generateAll(model, { inputIds: [plan.prompt] }, plan.options);
          expect(sequence, `request ${index}`).toEqual(alone.sequences[0]);
        }
        expect(scheduler.stats()).toMatchObject({ waiting: 0, running: 0 });
        await scheduler.close();
      });
    });

    it('processes rows with bans and row-wise warpers as batches (greedy, and sampling rows grouped by settings), beside rows with other processors', async () => {
      await expectNoLeak(async () => {
        const random = new SeededRandom({ llama: 31, gpt2: 32, gemma2: 33 }[family]);
        const eos = (model.generationConfig?.eosTokenId ?? []) as number[] | number;
        const avoid = Array.isArray(eos) ? eos : [eos];
        const prompts = [3, 8, 5, 2, 6, 4, 7, 1].map((length) =>
          randomPrompt(random, length, model.vocabSize, avoid),
        );
        // What each greedy row picks without bans, so that the bans below change its tokens.
        const free = await Promise.all(
          prompts
            .slice(0, 5)
            .map(async (prompt) =>
              (await generateAll(model, { inputIds: [prompt] }, { maxNewTokens: 6 })).sequences[0]!.slice(
                prompt.length,
              ),
            ),
        );
        const options: BatchRequestOptions[] = [
          { maxNewTokens: 6, suppressTokens: [free[0]![0]!, free[0]![2]!] },
          // Its second token becomes EOS: banned until 4 new tokens, a stop after.
          { maxNewTokens: 6, minNewTokens: 4, eosTokenId: free[1]![1]! },
          { maxNewTokens: 6, suppressTokens: [free[2]![1]!], repetitionPenalty: 1.3 },
          { maxNewTokens: 6, doSample: true, seed: 9, suppressTokens: [free[3]![0]!] },
          { maxNewTokens: 6, minNewTokens: 5, eosTokenId: free[4]![0]!, topLogprobs: 2 },
          // Two sampling rows with the same settings (one group, one draw each), one with others.
          { maxNewTokens: 6, doSample: true, seed: 21, temperature: 0.8, topK: 20, minNewTokens: 3 },
          { maxNewTokens: 6, doSample: true, seed: 22, temperature: 0.8, topK: 20 },
          { maxNewTokens: 6, doSample: true, seed: 23, temperature: 1.3, topP: 0.8, minP: 0.02 },
        ];
        const scheduler = new BatchScheduler(model, { maxBatch: 8 });
        const results = await Promise.all(
          prompts.map((prompt, index) => scheduler.submit(prompt, options[index])),
        );
        for (const [index, prompt] of prompts.entries()) {
          const { topLogprobs: _, ...generation } = options[index]!;
          const alone = await generateAll(model, { inputIds: [prompt] }, generation);
          expect(results[index]!.sequence, `request ${index}`).toEqual(alone.sequences[0]);
        }
        expect(results[0]!.generated[0]!.id).not.toBe(free[0]![0]);
        expect(results[1]!.generated.map((token) => token.id).slice(0, 4)).not.toContain(free[1]![1]);
        expect(results[4]!.generated.every((token) => token.topLogprobs?.length === 2)).toBe(true);
        await scheduler.close();
      });
    });

    it('reports log-probabilities of the model’s own distribution, as a full forward computes them', async () => {
      await expectNoLeak(async () => {
        const scheduler = new BatchScheduler(model);
        const prompt = [3, 17, 42, 5];
        const other = scheduler.submit([9, 8, 7, 6, 5, 4, 3], { maxNewTokens: 4 });
        const result = await scheduler.submit(prompt, { maxNewTokens: 5, topLogprobs: 3 });
        await other;
        const sequence = result.sequence;
        const expected = tf.tidy(() => {
          const logits = model.forward(
            tf.tensor2d([sequence as number[]], [1, sequence.length], 'int32'),
          ).logits;
          return tf.logSoftmax(tf.squeeze(logits, [0]));
        });
        const table = (await expected.array()) as number[][];
        expected.dispose();
        result.generated.forEach((token, step) => {
          const row = table[prompt.length - 1 + step]!;
          expect(token.logprob).toBeCloseTo(row[token.id]!, 4);
          const best = row
            .map((logprob, id) => ({ id, logprob }))
            .sort((a, b) => b.logprob - a.logprob)
            .slice(0, 3);
          expect(token.topLogprobs!.map((entry) => entry.id)).toEqual(best.map((entry) => entry.id));
          token.topLogprobs!.forEach((entry, rank) => {
            expect(entry.logprob).toBeCloseTo(best[rank]!.logprob, 4);
          });
        });
        await scheduler.close();
      });
    });
  });
}

describe('BatchScheduler limits', () => {
  let model: CausalLM & { dispose(): void };

  beforeAll(async () => {
    model = (await fromPretrained(`${FIXTURES}llama`, { backend: 'wasm' })).model as PretrainedCausalLM;
  });

  afterAll(() => {
    model?.dispose();
  });

  it('refuses a request past maxQueue, beams and bad logprobs, and fails queued requests on close', async () => {
    await expectNoLeak(async () => {
      const scheduler = new BatchScheduler(model, { maxBatch: 1, maxQueue: 1 });
      const first = scheduler.submit([5, 6], { maxNewTokens: 3 });
      // The first is still waiting (the loop has not run yet), so the queue is full.
      await expect(scheduler.submit([5, 6], { maxNewTokens: 3 })).rejects.toBeInstanceOf(BatchQueueFullError);
      await expect(scheduler.submit([5], { numBeams: 2 })).rejects.toThrow(/numBeams must be 1/);
      await expect(scheduler.submit([5], { topLogprobs: -1 })).rejects.toThrow(/topLogprobs/);
      await expect(scheduler.submit([5000])).rejects.toThrow(/not a token id/);
      expect((await first).sequence).toHaveLength(5);
      // A callback that throws fails its own request only.
      const shared = new BatchScheduler(model);
      const other = shared.submit([7, 8], { maxNewTokens: 4 });
      const throwing = shared.submit([7, 9], {
        maxNewTokens: 4,
        onToken: () => {
          throw new Error('callback failed');
        },
      });
      await expect(throwing).rejects.toThrow('callback failed');
      expect((await other).generated).toHaveLength(4);
      await shared.close();
      // Closing fails a running request at its next step, and refuses new ones.
      const running = scheduler.submit([1, 2, 3], {
        maxNewTokens: 50,
        onToken: () => void scheduler.close(),
      });
      await expect(running).rejects.toBeInstanceOf(GenerationAbortedError);
      await expect(scheduler.submit([1])).rejects.toThrow(/closed/);
      // Its cache is freed when the loop takes the ended row out, which close() waits for.
      await scheduler.close();
    });
  });
});
