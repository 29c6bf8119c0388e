// Generations dropped without return(): tracked per model, freed by releaseGenerations (the model's dispose()).
import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '@tsformer/core-tensor';
import { expectNoLeak } from '@tsformer/core-tensor/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { ToyCausalLM, ToySeq2SeqLM, toyTables } from '../test/toy-models.js';
import { GenerationAbortedError } from './errors.js';
import { generate, generateAll } from './generate.js';
import { releaseGenerations } from './live-generations.js';

const tables = toyTables(12, 8);
const inputs = {
  inputIds: [
    [3, 1, 4],
    [2, 7, 1],
  ],
};

beforeAll(async () => {
  await useBackend('wasm');
});

describe('releaseGenerations', () => {
  it("frees the tensors of iterators dropped mid-generation when the model's dispose() runs", async () => {
    const before = tf.memory().numTensors;
    const causal = new ToyCausalLM(tables, { eosTokenId: null });
    const seq2seq = new ToySeq2SeqLM(tables, { decoderStartTokenId: 0, eosTokenId: null });
    const strategies = [{}, { doSample: true, seed: 1 }, { numBeams: 2 }];
    for (const strategy of strategies) {
      // Started (so each holds a cache), then dropped without return().
      await generate(causal, inputs, { maxNewTokens: 9, ...strategy }).next();
      await generate(seq2seq, inputs, { maxNewTokens: 9, ...strategy }).next();
    }
    expect(tf.memory().numTensors).toBeGreaterThan(before);
    causal.dispose();
    seq2seq.dispose();
    expect(tf.memory().numTensors).toBe(before);
    // Nothing is left to release.
    expect(releaseGenerations(causal)).toBe(0);
  });

  it('makes a released generation that is resumed reject, with nothing left alive', async () => {
    await expectNoLeak(async () => {
      const toy = new ToyCausalLM(tables, { eosTokenId: null });
      const steps = generate(toy, inputs, { maxNewTokens: 9 });
      await steps.next();
      expect(releaseGenerations(toy)).toBe(1);
      const error = await steps.next().catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(GenerationAbortedError);
      expect((error as GenerationAbortedError).message).toMatch(/model was disposed/);
    });
  });

  it("leaves finished generations, other models' generations and caller-owned caches alone", async () => {
    await expectNoLeak(async () => {
      const first = new ToyCausalLM(tables, { eosTokenId: null });
      const second = new ToyCausalLM(tables, { eosTokenId: null });
      await generateAll(first, inputs, { maxNewTokens: 3 });
      const cache = first.createCache(1, 64);
      await generate(first, { inputIds: [[3, 1, 4]] }, { maxNewTokens: 5, cache }).next();
      const other = generate(second, inputs, { maxNewTokens: 5 });
      await other.next();
      expect(releaseGenerations(first)).toBe(1);
      expect(cache.getSeqLength()).toBe(3);
      expect(cache.tokens!.isDisposed).toBe(false);
      cache.dispose();
      let steps = 1;
      for (let step = await other.next(); !step.done; step = await other.next()) steps += 1;
      expect(steps).toBe(5);
    });
  });
});
