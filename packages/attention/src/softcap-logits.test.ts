import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '@tsformer/core-tensor';
import { assertClose, expectNoLeak } from '@tsformer/core-tensor/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { AttentionInputError } from './errors.js';
import { softcapLogits } from './softcap-logits.js';

beforeAll(async () => {
  await useBackend('wasm');
});

describe('softcapLogits', () => {
  it('is tanh(x / cap) · cap, computed in float64 here', async () => {
    await expectNoLeak(() => {
      const values = [-100, -30, -1, 0, 0.25, 7, 29.5, 1e4];
      const logits = tf.tensor2d(values, [2, 4]);
      const capped = softcapLogits(logits, 30);
      assertClose(
        capped,
        values.map((x) => Math.tanh(x / 30) * 30),
        1e-5,
        'capped',
      );
      tf.dispose([logits, capped]);
    });
  });

  it('refuses a cap that is not a positive number', () => {
    const logits = tf.zeros([1]);
    expect(() => softcapLogits(logits, -1)).toThrow(AttentionInputError);
    expect(() => softcapLogits(logits, Number.NaN)).toThrow(/finite number > 0, got NaN/);
    logits.dispose();
  });
});
