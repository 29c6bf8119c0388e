import * as tf from '@tensorflow/tfjs-core';
import { TsformerError, useBackend } from '@tsformer/core-tensor';
import { expectNoLeak } from '@tsformer/core-tensor/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { Dropout } from './dropout.js';

beforeAll(async () => {
  await useBackend('wasm');
});

describe('Dropout', () => {
  it('is the identity in eval mode', () => {
    const x = tf.ones([4, 4]);
    expect(new Dropout(0.5).forward(x)).toBe(x);
    x.dispose();
  });

  it('zeroes elements and rescales the rest by 1 / (1 - rate) in training mode', async () => {
    await expectNoLeak(async () => {
      const x = tf.ones([64, 64]);
      const y = new Dropout(0.25).train({ seed: 7 }).forward(x);
      const data = Array.from(await y.data());
      const zeros = data.filter((v) => v === 0).length;
      expect(new Set(data.map((v) => v.toFixed(5)))).toEqual(new Set(['0.00000', (1 / 0.75).toFixed(5)]));
      expect(zeros / data.length).toBeGreaterThan(0.2);
      expect(zeros / data.length).toBeLessThan(0.3);
      tf.dispose([x, y]);
    });
  });

  it('draws a new mask on every call, the same sequence again from the same seed', async () => {
    const x = tf.ones([16, 16]);
    const dropout = new Dropout(0.5);
    const masks = async (seed: number) => {
      dropout.train({ seed });
      const [first, second] = [dropout.forward(x), dropout.forward(x)];
      const values = [Array.from(await first.data()), Array.from(await second.data())];
      tf.dispose([first, second]);
      return values;
    };
    const [a1, a2] = await masks(3);
    const [b1, b2] = await masks(3);
    expect(b1).toEqual(a1);
    expect(b2).toEqual(a2);
    expect(a2).not.toEqual(a1);
    const [c1] = await masks(4);
    expect(c1).not.toEqual(a1);
    x.dispose();
  });

  it('rejects a rate outside [0, 1)', () => {
    expect(() => new Dropout(1)).toThrow(TsformerError);
    expect(() => new Dropout(-0.1)).toThrow(/dropout rate must be in \[0, 1\), got -0.1/);
  });
});
