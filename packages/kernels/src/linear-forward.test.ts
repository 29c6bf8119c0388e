import * as tf from '@tensorflow/tfjs-core';
import { SeededRandom, useBackend } from '@tsformer/core-tensor';
import { assertClose, expectNoLeak } from '@tsformer/core-tensor/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KernelPool } from './kernel-pool.js';
import { linearForward } from './linear-forward.js';
import { type PackedWeight, packTensorWeight, packWeight } from './packed-weight.js';
import { skinnyMatmul } from './skinny-matmul.js';

describe.each(['cpu', 'wasm'] as const)('linearForward on the %s backend', (backend) => {
  let pool: KernelPool;
  beforeAll(async () => {
    await useBackend(backend);
    pool = await KernelPool.create({ threads: 2 });
  });
  afterAll(async () => {
    await pool.terminate();
  });

  const [inF, outF] = [45, 37];
  const random = new SeededRandom(3);
  const weights = random.normalArray(inF * outF);
  const biasValues = random.normalArray(outF);

  it('runs the kernel for few rows: [2, 3, in] → [2, 3, out], the kernel’s own result, no tensor left', async () => {
    const x = random.normalArray(6 * inF);
    const expected = (() => {
      const packed = packWeight(pool, { dtype: 'fp32', data: weights, shape: [inF, outF] });
      const y = skinnyMatmul(packed, x, 6, biasValues);
      packed.free();
      return y;
    })();
    await expectNoLeak(async () => {
      const w = tf.tensor2d(weights, [inF, outF]);
      const bias = tf.tensor1d(biasValues);
      const packed = await packTensorWeight(pool, w);
      const y = tf.tidy(() => linearForwardOf(tf.tensor3d(x, [2, 3, inF]), packed, bias));
      expect(y.shape).toEqual([2, 3, outF]);
      expect(await y.data()).toEqual(expected);
      packed.free();
      tf.dispose([w, bias, y]);
    });
  });

  it('falls back to tfjs matMul past maxRows, with the same values to float32 rounding', async () => {
    const rows = 12;
    const x = random.normalArray(rows * inF);
    await expectNoLeak(async () => {
      const w = tf.tensor2d(weights, [inF, outF]);
      const bias = tf.tensor1d(biasValues);
      const packed = await packTensorWeight(pool, w);
      const input = tf.tensor2d(x, [rows, inF]);
      const portable = linearForwardOf(input, packed, bias, 8);
      const kernel = linearForwardOf(input, packed, bias, 16);
      const reference = tf.tidy(() => tf.add(tf.matMul(input, w), bias));
      expect(await portable.data()).toEqual(await reference.data());
      assertClose(await kernel.data(), await reference.data(), 1e-5, 'kernel vs matMul');
      packed.free();
      tf.dispose([w, bias, input, portable, kernel, reference]);
    });
  });

  it('refuses x whose last size is not the weight’s input size', async () => {
    const packed = packWeight(pool, { dtype: 'fp32', data: weights, shape: [inF, outF] });
    const x = tf.zeros([1, inF + 1]);
    expect(() => linearForwardOf(x, packed)).toThrow(/linearForward: x is float32 \[1,46\]/);
    x.dispose();
    packed.free();
  });
});

function linearForwardOf(
  x: tf.Tensor,
  packed: PackedWeight,
  bias?: tf.Tensor1D,
  maxRows?: number,
): tf.Tensor {
  return linearForward(x, packed, bias, maxRows === undefined ? {} : { maxRows });
}
