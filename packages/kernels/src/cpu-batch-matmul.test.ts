import * as tf from '@tensorflow/tfjs-core';
import { enableGradients, SeededRandom, useBackend } from '@tsformer/core-tensor';
import { expectNoLeak } from '@tsformer/core-tensor/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { disableCpuKernels, enableCpuKernels } from './cpu-linear.js';

/**
 * c = a · b per batch in float32 in index order (Math.fround after every operation: what the kernel
 * promises, bit for bit), checked against float64 within γ_k·Σ|a·b| (Higham §3.1).
 */
function expectInOrderProduct(
  c: Float32Array,
  a: Float32Array,
  b: Float32Array,
  [batch, m, k, n]: number[],
  transposeA: boolean,
  transposeB: boolean,
): void {
  const gamma = (k * 2 ** -24) / (1 - k * 2 ** -24);
  for (let p = 0; p < batch!; p++) {
    for (let i = 0; i < m!; i++) {
      for (let j = 0; j < n!; j++) {
        let single = 0;
        let exact = 0;
        let magnitude = 0;
        for (let kk = 0; kk < k!; kk++) {
          const x = a[p * m! * k! + (transposeA ? kk * m! + i : i * k! + kk)]!;
          const y = b[p * k! * n! + (transposeB ? j * k! + kk : kk * n! + j)]!;
          single = Math.fround(single + Math.fround(x * y));
          exact += x * y;
          magnitude += Math.abs(x * y);
        }
        const value = c[(p * m! + i) * n! + j]!;
        if (value !== single || Math.abs(value - exact) > gamma * magnitude) {
          expect.fail(`batch ${p} [${i}, ${j}]: ${value}, in-order float32 ${single}, float64 ${exact}`);
        }
      }
    }
  }
}

describe.each(['cpu', 'wasm'] as const)("tfjs's BatchMatMul on %s with the CPU kernels", (backend) => {
  beforeAll(async () => {
    await useBackend(backend);
    await enableGradients();
    await enableCpuKernels({ threads: 1 });
  });
  afterAll(() => {
    disableCpuKernels();
  });

  // [batch dims..., m, k, n]: attention's shapes (heads × queries × headDim × keys) and odd sizes that
  // leave a partial 16-column block (n = 1, 5, 17, 33).
  for (const [batchShape, m, k, n] of [
    [[1, 12], 32, 64, 32],
    [[2, 3], 5, 7, 17],
    [[4], 1, 9, 33],
    [[3], 6, 1, 5],
    [[2], 3, 16, 1],
  ] as [number[], number, number, number][]) {
    it(`[${batchShape}] · ${m} × ${k} × ${n}, every transpose, equals the in-order float32 sum`, async () => {
      const random = new SeededRandom(m * 100 + k * 10 + n);
      const batch = batchShape.reduce((x, y) => x * y, 1);
      for (const [transposeA, transposeB] of [
        [false, false],
        [false, true],
        [true, false],
        [true, true],
      ] as const) {
        const aValues = random.normalArray(batch * m * k);
        const bValues = random.normalArray(batch * k * n);
        const a = tf.tensor(aValues, [...batchShape, ...(transposeA ? [k, m] : [m, k])]);
        const b = tf.tensor(bValues, [...batchShape, ...(transposeB ? [n, k] : [k, n])]);
        const c = await expectNoLeak(async () => {
          const product = tf.matMul(a, b, transposeA, transposeB);
          expect(product.shape).toEqual([...batchShape, m, n]);
          const values = (await product.data()) as Float32Array;
          product.dispose();
          return values;
        });
        expectInOrderProduct(c, aValues, bValues, [batch, m, k, n], transposeA, transposeB);
        tf.dispose([a, b]);
      }
    });
  }

  it("leaves a single pair, a broadcast batch and a gradient to tfjs's kernel, with the same results", async () => {
    const random = new SeededRandom(9);
    const a = tf.tensor(random.normalArray(2 * 4 * 6), [2, 4, 6]);
    const single = tf.tensor(random.normalArray(6 * 5), [1, 6, 5]);
    const pair = tf.tensor(random.normalArray(2 * 6 * 5), [2, 6, 5]);
    const cases = () => [
      tf.matMul(tf.reshape(a, [8, 6]), tf.reshape(single, [6, 5])), // 2-D: one pair
      tf.matMul(a, single), // batch 2 against batch 1
      tf.grad((x: tf.Tensor) => tf.sum(tf.matMul(x, pair)))(a), // the gradient's products
    ];
    const served = cases();
    const servedValues = await Promise.all(served.map((t) => t.data()));
    disableCpuKernels();
    const tfjs = cases();
    const tfjsValues = await Promise.all(tfjs.map((t) => t.data()));
    await enableCpuKernels({ threads: 1 });
    expect(servedValues.slice(0, 2)).toEqual(tfjsValues.slice(0, 2));
    // The gradient multiplies batches of 2: served by the kernel, equal to tfjs's to float32 rounding.
    const [g, h] = [servedValues[2]!, tfjsValues[2]!];
    for (let k = 0; k < g.length; k++) expect(Math.abs(g[k]! - h[k]!)).toBeLessThan(1e-5);
    tf.dispose([a, single, pair, ...served, ...tfjs]);
  });
});
