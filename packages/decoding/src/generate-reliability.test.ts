// Issue 10's "Must show": tensor counts flat over 1,030 generate calls; 4 concurrent calls on one model
// each give exactly what they give alone.
import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '@tsformer/core-tensor';
import { expectNoLeak } from '@tsformer/core-tensor/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { ToyCausalLM, ToySeq2SeqLM, toyTables } from '../test/toy-models.js';
import { type GenerateOptions, generate, generateAll } from './generate.js';
import type { GenerateInputs } from './generation-inputs.js';

const tables = toyTables(12, 13);
const causal = new ToyCausalLM(tables, { eosTokenId: 11, padTokenId: 10 });
const seq2seq = new ToySeq2SeqLM(tables, { decoderStartTokenId: 0, eosTokenId: 11 });

beforeAll(async () => {
  await useBackend('wasm');
});

/** One short generation of kind `call % 10`: every strategy, cache kind and way of ending. */
async function shortGeneration(call: number): Promise<void> {
  const inputIds = [
    [call % 10, 1, 2],
    [10, 4, call % 9],
  ];
  const options: GenerateOptions = { maxNewTokens: 3 };
  switch (call % 10) {
    case 0:
      await generateAll(causal, { inputIds }, options);
      break;
    case 1:
      await generateAll(causal, { inputIds }, { ...options, doSample: true, seed: call, topK: 5 });
      break;
    case 2:
      await generateAll(causal, { inputIds }, { ...options, numBeams: 2, numReturnSequences: 2 });
      break;
    case 3:
      await generateAll(causal, { inputIds }, { ...options, useCache: false });
      break;
    case 4:
      await generateAll(causal, { inputIds }, { ...options, prefillChunkSize: 1 });
      break;
    case 5:
      await generateAll(seq2seq, { inputIds }, { ...options, numBeams: 2 });
      break;
    case 6: {
      // A consumer that stops after one step.
      for await (const _ of generate(causal, { inputIds }, options)) break;
      break;
    }
    case 7: {
      const controller = new AbortController();
      const steps = generate(causal, { inputIds }, { ...options, signal: controller.signal });
      await steps.next();
      controller.abort();
      await steps.next().catch(() => undefined);
      break;
    }
    case 8: {
      // A refused call (out-of-vocabulary id) allocates nothing.
      await generateAll(causal, { inputIds: [[12]] }, options).catch(() => undefined);
      break;
    }
    default: {
      const cache = causal.createCache(1, 64);
      await generateAll(causal, { inputIds: [[3, 1, call % 10]] }, { ...options, cache });
      cache.dispose();
    }
  }
}

describe('generate under load', () => {
  it('keeps the tensor count flat over 1,030 calls', async () => {
    const start = tf.memory().numTensors;
    const counts = new Set<number>();
    for (let call = 0; call < 1030; call++) {
      await shortGeneration(call);
      counts.add(tf.memory().numTensors - start);
    }
    expect([...counts]).toEqual([0]);
  });

  it('gives each of 4 concurrent calls on one model exactly what it gives alone, greedy and seeded sampling', async () => {
    await expectNoLeak(async () => {
      const calls: [GenerateInputs, GenerateOptions][] = [
        [{ inputIds: [[3, 1, 4]] }, { maxNewTokens: 12 }],
        [{ inputIds: [[2, 7, 1, 8]] }, { maxNewTokens: 12, doSample: true, seed: 1 }],
        [
          {
            inputIds: [
              [10, 5, 9],
              [2, 6, 5],
            ],
          },
          { maxNewTokens: 10, doSample: true, seed: 2, topP: 0.9 },
        ],
        [{ inputIds: [[1, 4, 1]] }, { maxNewTokens: 12, numBeams: 2 }],
      ];
      const alone = [];
      for (const [inputs, options] of calls) alone.push(await generateAll(causal, inputs, options));

      // The four run interleaved: each takes a step in turn, between the others' steps.
      const events: number[] = [];
      const together = await Promise.all(
        calls.map(async ([inputs, options], index) => {
          const steps = generate(causal, inputs, options);
          for (;;) {
            const step = await steps.next();
            if (step.done) return step.value;
            events.push(index);
          }
        }),
      );
      expect(together).toEqual(alone);
      expect(new Set(events.slice(0, 3))).toEqual(new Set([0, 1, 2]));
    });
  });
});
