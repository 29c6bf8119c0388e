import * as tf from '@tensorflow/tfjs-core';
import { Parameter, SeededRandom, useBackend } from '@tsformer/core-tensor';
import { expectNoLeak } from '@tsformer/core-tensor/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { disableWebgpuKernels, enableWebgpuKernels } from './enable-webgpu-kernels.js';
import { fastDispatchStats } from './fast-dispatch.js';
import type { WeightOrder } from './linear-program.js';
import { webgpuStackedLinear } from './webgpu-stacked-linear.js';

beforeAll(async () => {
  await useBackend('webgpu');
  enableWebgpuKernels({ bf16Weights: false });
});
afterAll(() => disableWebgpuKernels());

/** A loaded parameter of checkpoint shape `[out, in]` (or `[in, out]` for `in-out`) from `[out, in]` values. */
function weightParameter(
  values: Float32Array,
  outF: number,
  inF: number,
  layout: WeightOrder,
  transposed: boolean,
): Parameter {
  const outIn = tf.tensor2d(values, [outF, inF]);
  const checkpoint = layout === 'out-in' ? outIn : tf.transpose(outIn);
  if (checkpoint !== outIn) outIn.dispose();
  const parameter = new Parameter(checkpoint.shape, { transposed });
  parameter.assign(checkpoint);
  return parameter;
}

/** Row r of `x` `[rows, in]` through every `[out, in]` weight in float64, outputs side by side. */
function stackedFloat64(
  x: Float32Array,
  rows: number,
  inF: number,
  weights: { w: Float32Array; b: Float32Array | undefined; outF: number }[],
): Float64Array {
  const total = weights.reduce((sum, { outF }) => sum + outF, 0);
  const y = new Float64Array(rows * total);
  for (let r = 0; r < rows; r++) {
    let column = 0;
    for (const { w, b, outF } of weights) {
      for (let o = 0; o < outF; o++) {
        let sum = b ? b[o]! : 0;
        for (let k = 0; k < inF; k++) sum += x[r * inF + k]! * w[o * inF + k]!;
        y[r * total + column + o] = sum;
      }
      column += outF;
    }
  }
  return y;
}

function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string): void {
  expect(actual.length, what).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    expect(Math.abs(actual[i]! - expected[i]!), `${what}: element ${i}`).toBeLessThan(1e-4);
  }
}

describe('webgpuStackedLinear (q/k/v projections as one dispatch)', () => {
  const cases = [
    { rows: 1, inF: 9, outs: [12, 4, 4], layout: 'out-in', transposed: true, bias: false },
    { rows: 3, inF: 33, outs: [16, 8, 8], layout: 'out-in', transposed: false, bias: true },
    { rows: 2, inF: 17, outs: [5, 7, 3], layout: 'in-out', transposed: false, bias: true },
  ] as const;

  it.each(cases.map((testCase) => [JSON.stringify(testCase), testCase] as const))(
    '%s: within 1e-4 of float64, in one dispatch, and rebuilt when a weight changes',
    async (_, testCase) => {
      await expectNoLeak(async () => {
        const { rows, inF, outs, layout, transposed, bias } = testCase;
        const random = new SeededRandom(rows * 100 + inF);
        const values = outs.map((outF) => ({
          w: random.normalArray(outF * inF, 1),
          b: bias ? random.normalArray(outF, 1) : undefined,
          outF,
        }));
        const projections = values.map(({ w, b, outF }) => {
          const biasParameter = b ? new Parameter([outF]) : undefined;
          biasParameter?.assign(tf.tensor1d(b!));
          return { weight: weightParameter(w, outF, inF, layout, transposed), bias: biasParameter, layout };
        });
        const xValues = random.normalArray(rows * inF, 1);
        const x = tf.tensor2d(xValues, [rows, inF]);
        const before = fastDispatchStats().dispatches;
        const y = webgpuStackedLinear(x, projections)!;
        expect(y).toBeDefined();
        const expected = stackedFloat64(xValues, rows, inF, values);
        expect(y.shape).toEqual([rows, expected.length / rows]);
        const actual = await y.data();
        expectClose(actual, expected, 'stacked');
        const again = webgpuStackedLinear(x, projections)!;
        // The second call reuses the stacked weight: one dispatch, no concatenation.
        const stats = fastDispatchStats().dispatches;
        const third = webgpuStackedLinear(x, projections)!;
        expect(fastDispatchStats().dispatches - stats).toBe(1);
        expect(stats - before).toBeGreaterThanOrEqual(2);
        // A new value of the last weight must show in the next result.
        const last = values[values.length - 1]!;
        last.w = random.normalArray(last.outF * inF, 1);
        const lastParameter = projections[projections.length - 1]!.weight;
        const fresh = weightParameter(last.w, last.outF, inF, layout, false);
        lastParameter.assign(tf.clone(fresh.tensor));
        fresh.dispose();
        const updated = webgpuStackedLinear(x, projections)!;
        const updatedExpected = stackedFloat64(xValues, rows, inF, values);
        const updatedActual = await updated.data();
        expectClose(updatedActual, updatedExpected, 'after the last weight changed');
        tf.dispose([x, y, again, third, updated]);
        for (const { weight, bias: b } of projections) {
          weight.dispose();
          b?.dispose();
        }
      });
    },
  );

  it('declines projections it cannot stack: other input sizes, mixed biases, a trainable weight', async () => {
    await expectNoLeak(async () => {
      const make = (outF: number, inF: number) =>
        weightParameter(new Float32Array(outF * inF), outF, inF, 'out-in', false);
      const a = make(4, 6);
      const b = make(4, 5);
      const c = make(4, 6);
      const bias = new Parameter([4]);
      bias.assign(tf.zeros([4]));
      const x = tf.zeros([1, 6]);
      expect(webgpuStackedLinear(x, [{ weight: a }, { weight: b }])).toBeUndefined();
      expect(webgpuStackedLinear(x, [{ weight: a, bias }, { weight: c }])).toBeUndefined();
      c.makeTrainable();
      expect(webgpuStackedLinear(x, [{ weight: a }, { weight: c }])).toBeUndefined();
      tf.dispose(x);
      for (const parameter of [a, b, c, bias]) parameter.dispose();
    });
  });
});
