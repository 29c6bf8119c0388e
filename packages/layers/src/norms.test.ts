import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '@tsformer/core-tensor';
import { assertClose, expectNoLeak } from '@tsformer/core-tensor/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { randomValues } from '../test/float64.js';
import { LayerNorm } from './layer-norm.js';
import { RMSNorm } from './rms-norm.js';

beforeAll(async () => {
  await useBackend('wasm');
});

const dim = 8;
const input = randomValues(3 * dim, 11, 3).map((v, i) => v + (i % dim)); // non-zero mean per row
const weight = randomValues(dim, 12);
const bias = randomValues(dim, 13);

/** Row-wise layer norm in float64: (x - mean) / sqrt(var + eps) · w + b. */
function layerNorm(eps: number, w?: number[], b?: number[]): number[] {
  const out: number[] = [];
  for (let r = 0; r < input.length / dim; r++) {
    const x = input.slice(r * dim, (r + 1) * dim);
    const mean = x.reduce((s, v) => s + v, 0) / dim;
    const variance = x.reduce((s, v) => s + (v - mean) ** 2, 0) / dim;
    x.forEach((v, i) => {
      out.push(((v - mean) / Math.sqrt(variance + eps)) * (w?.[i] ?? 1) + (b?.[i] ?? 0));
    });
  }
  return out;
}

describe('LayerNorm', () => {
  it.each([
    ['affine with bias', { eps: 1e-5 }, weight, bias],
    ['affine without bias', { eps: 1e-3, bias: false }, weight, undefined],
    ['no affine', { eps: 1e-5, elementwiseAffine: false }, undefined, undefined],
  ] as const)('normalises over the last axis (%s)', async (_label, options, w, b) => {
    await expectNoLeak(() => {
      const norm = new LayerNorm(dim, options);
      expect(norm.numParameters()).toBe((w ? dim : 0) + (b ? dim : 0));
      if (w) norm.weight!.assign(tf.tensor1d(w));
      if (b) norm.bias!.assign(tf.tensor1d(b));
      const x = tf.tensor2d(input, [3, dim]);
      const y = norm.forward(x);
      assertClose(y, layerNorm(options.eps, w, b), 1e-5, 'layer norm');
      tf.dispose([x, y]);
      norm.dispose();
    });
  });
});

describe('RMSNorm', () => {
  it('scales by the reciprocal root mean square, then the weight', async () => {
    await expectNoLeak(() => {
      const eps = 1e-6;
      const norm = new RMSNorm(dim, { eps });
      norm.weight.assign(tf.tensor1d(weight));
      const x = tf.tensor3d(input, [1, 3, dim]);
      const y = norm.forward(x);
      const expected: number[] = [];
      for (let r = 0; r < 3; r++) {
        const row = input.slice(r * dim, (r + 1) * dim);
        const rms = Math.sqrt(row.reduce((s, v) => s + v * v, 0) / dim + eps);
        row.forEach((v, i) => {
          expected.push((weight[i]! * v) / rms);
        });
      }
      assertClose(y, expected, 1e-5, 'rms norm');
      tf.dispose([x, y]);
      norm.dispose();
    });
  });

  it('scales by 1 + weight with weightOffset 1 (Gemma), the weight left as stored', async () => {
    await expectNoLeak(() => {
      const eps = 1e-6;
      const norm = new RMSNorm(dim, { eps, weightOffset: 1 });
      norm.weight.assign(tf.tensor1d(weight));
      const x = tf.tensor2d(input, [3, dim]);
      const y = norm.forward(x);
      const expected: number[] = [];
      for (let r = 0; r < 3; r++) {
        const row = input.slice(r * dim, (r + 1) * dim);
        const rms = Math.sqrt(row.reduce((s, v) => s + v * v, 0) / dim + eps);
        row.forEach((v, i) => {
          expected.push((v / rms) * (1 + weight[i]!));
        });
      }
      assertClose(y, expected, 1e-5, 'gemma rms norm');
      assertClose(norm.weight.tensor, weight, 0, 'stored weight');
      tf.dispose([x, y]);
      norm.dispose();
    });
  });
});
