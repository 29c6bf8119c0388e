// WebGPU in Node cannot read device memory synchronously (dataSync needs an OffscreenCanvas), so
// generation must never call it: every step's one download is the async one of the chosen tokens.
import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '@tsformer/core-tensor';
import { expectNoLeak } from '@tsformer/core-tensor/testing';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { PretrainedCausalLM } from '../src/causal-lm.js';
import { fromPretrained } from '../src/from-pretrained.js';
import { DECODER_FIXTURES } from './decoder-fixtures.js';

beforeAll(async () => {
  await useBackend('wasm');
});

afterEach(() => {
  vi.restoreAllMocks();
});

describe('generation makes no synchronous device reads', () => {
  for (const name of ['gpt2', 'llama'] as const) {
    it(`${name}: a left-padded batch with beam search (masks, positions, cache reorders)`, async () => {
      await expectNoLeak(async () => {
        const { model } = await fromPretrained(DECODER_FIXTURES[name]);
        const causal = model as PretrainedCausalLM;
        const readSync = vi.spyOn(tf.engine(), 'readSync');
        const inputs = {
          inputIds: [
            [1, 1, 5, 6, 7],
            [8, 9, 10, 11, 12],
          ],
          attentionMask: [
            [0, 0, 1, 1, 1],
            [1, 1, 1, 1, 1],
          ],
        };
        const { sequences } = await causal.generateAll(inputs, {
          maxNewTokens: 4,
          numBeams: 2,
          padTokenId: 1,
        });
        await causal.generateAll(inputs, { maxNewTokens: 4, padTokenId: 1 });
        expect(sequences).toHaveLength(2);
        expect(readSync).not.toHaveBeenCalled();
        model.dispose();
      });
    });
  }
});
