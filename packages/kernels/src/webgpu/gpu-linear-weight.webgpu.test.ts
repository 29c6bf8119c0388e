import * as tf from '@tensorflow/tfjs-core';
import { Parameter, SeededRandom, useBackend } from '@tsformer/core-tensor';
import { expectNoLeak } from '@tsformer/core-tensor/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { bf16BitsToFloat32, float32ToBf16Bits } from '../weight-dtypes.js';
import { gpuLinearWeight, setBf16Weights, webgpuLinear } from './webgpu-linear.js';

beforeAll(async () => {
  await useBackend('webgpu');
});

/** Seeded normal values rounded to bfloat16 (what a bf16 checkpoint widened to float32 holds). */
function bf16Values(count: number, seed: number): Float32Array {
  const values = new SeededRandom(seed).normalArray(count, 1);
  return values.map((v) => bf16BitsToFloat32(float32ToBf16Bits(v)));
}

describe('bf16 linear weights on webgpu', () => {
  it.each([
    [1, 1, 1, false],
    [2, 5, 3, true],
    [3, 67, 129, false],
    [8, 33, 17, true],
  ])(
    'rows %i, in %i, out %i, transposed %s: a bf16 checkpoint reads 16-bit words and gives the float32 result exactly',
    async (rows, inF, outF, transposed) => {
      await expectNoLeak(async () => {
        const weight = new Parameter([outF, inF], { transposed });
        weight.assign(tf.tensor2d(bf16Values(outF * inF, inF), [outF, inF]));
        const x = tf.tensor2d(new SeededRandom(rows).normalArray(rows * inF, 1), [rows, inF]);
        const stored = gpuLinearWeight(weight);
        const fp32 = webgpuLinear(x, weight)!; // before the check resolves: float32
        expect(stored.current.dtype).toBe('fp32');
        expect(await stored.ready).toBe(true);
        expect(stored.current.dtype).toBe('bf16');
        expect(stored.current.tensor.size).toBe(Math.ceil((outF * inF) / 2));
        const bf16 = webgpuLinear(x, weight)!;
        expect(Array.from(await bf16.data())).toEqual(Array.from(await fp32.data()));
        tf.dispose([x, fp32, bf16]);
        weight.dispose(); // frees the 16-bit copy too
      });
    },
  );

  it('keeps float32 for values that are not all bf16, and when bf16 copies are turned off', async () => {
    await expectNoLeak(async () => {
      const values = bf16Values(7 * 9, 1);
      values[40] = 1 + 2 ** -20; // one value with low bits
      const weight = new Parameter([7, 9]);
      weight.assign(tf.tensor2d(values, [7, 9]));
      const stored = gpuLinearWeight(weight);
      expect(await stored.ready).toBe(false);
      expect(stored.current.dtype).toBe('fp32');
      setBf16Weights(false);
      const other = new Parameter([7, 9]);
      other.assign(tf.tensor2d(bf16Values(7 * 9, 2), [7, 9]));
      expect(await gpuLinearWeight(other).ready).toBe(false);
      setBf16Weights(true);
      weight.dispose();
      other.dispose();
    });
  });

  it('drops the copy when the weight is written, and makes a new one from the new value', async () => {
    await expectNoLeak(async () => {
      const weight = new Parameter([4, 6]);
      weight.assign(tf.tensor2d(bf16Values(24, 3), [4, 6]));
      const first = gpuLinearWeight(weight);
      expect(await first.ready).toBe(true);
      weight.assign(tf.tensor2d(bf16Values(24, 4), [4, 6]));
      const second = gpuLinearWeight(weight);
      expect(second).not.toBe(first);
      expect(await second.ready).toBe(true);
      const x = tf.ones([1, 6]);
      const y = webgpuLinear(x, weight)!;
      const expected = tf.matMul(x, weight.tensor, false, true);
      expect(Array.from(await y.data())).toEqual(
        Array.from(await expected.data()).map((v) => expect.closeTo(v, 5)),
      );
      tf.dispose([x, y, expected]);
      weight.dispose();
    });
  });
});
