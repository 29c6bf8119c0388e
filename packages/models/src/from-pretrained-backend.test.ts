import * as tf from '@tensorflow/tfjs-core';
import { expectNoLeak } from '@tsformer/core-tensor/testing';
import { describe, expect, it } from 'vitest';
import { DECODER_FIXTURES } from '../test/decoder-fixtures.js';
import type { PretrainedCausalLM } from './causal-lm.js';
import { fromPretrained } from './from-pretrained.js';

// Its own file (its own process): no backend has been set up before this test, as in a user's script.
describe('fromPretrained before any useBackend', () => {
  it('picks the default backend instead of failing with "No backend found in registry"', async () => {
    expect(tf.engine().backendNames()).toEqual([]);
    const { model, tokenizer } = await fromPretrained(DECODER_FIXTURES.gpt2);
    expect(tf.getBackend()).toBe('wasm');
    await expectNoLeak(async () => {
      const causal = model as PretrainedCausalLM;
      const { sequences } = await causal.generateAll(
        { inputIds: [tokenizer!.encode('Hello')] },
        { maxNewTokens: 2 },
      );
      expect(sequences[0]).toHaveLength(3);
    });
    model.dispose();
  });
});
