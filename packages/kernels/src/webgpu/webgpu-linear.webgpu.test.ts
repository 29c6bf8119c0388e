import * as tf from '@tensorflow/tfjs-core';
import { Parameter, SeededRandom, useBackend } from '@tsformer/core-tensor';
import { expectNoLeak } from '@tsformer/core-tensor/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { linear } from '../linear.js';
import { disableWebgpuKernels, enableWebgpuKernels } from './enable-webgpu-kernels.js';
import type { WeightOrder } from './linear-program.js';
import { webgpuLinear } from './webgpu-linear.js';

beforeAll(async () => {
  await useBackend('webgpu');
  enableWebgpuKernels();
});
afterAll(() => disableWebgpuKernels());

/** `y[r, o] = Σ_k x[r, k] · W[o, k] + b[o]` in float64, W given `[out, in]`. */
function linearFloat64(
  x: Float32Array,
  w: Float32Array,
  b: Float32Array | undefined,
  rows: number,
  inF: number,
) {
  const outF = w.length / inF;
  const y = new Float64Array(rows * outF);
  for (let r = 0; r < rows; r++) {
    for (let o = 0; o < outF; o++) {
      let sum = b ? b[o]! : 0;
      for (let k = 0; k < inF; k++) sum += x[r * inF + k]! * w[o * inF + k]!;
      y[r * outF + o] = sum;
    }
  }
  return y;
}

/** `[out, in]` values as the checkpoint lays them out for `layout` (`in-out`: transposed). */
function checkpointValues(w: Float32Array, outF: number, inF: number, layout: WeightOrder): tf.Tensor2D {
  const outIn = tf.tensor2d(w, [outF, inF]);
  if (layout === 'out-in') return outIn;
  const inOut = tf.transpose(outIn) as tf.Tensor2D;
  outIn.dispose();
  return inOut;
}

describe('linear on webgpu (linearKernel, gemmKernel)', () => {
  const shapes: [rows: number, inF: number, outF: number][] = [
    [1, 1, 1],
    [1, 5, 3],
    [2, 33, 65],
    [3, 67, 257],
    [8, 130, 70],
    // Prefill rows: the tiled product (gemmKernel), with partial tiles on every side.
    [9, 33, 65],
    [45, 70, 33],
    [70, 130, 97],
  ];
  const cases = shapes.flatMap((shape) =>
    (['out-in', 'in-out'] as const).flatMap((layout) =>
      [false, true].flatMap((transposed) =>
        [true, false].map((withBias) => [...shape, layout, transposed, withBias] as const),
      ),
    ),
  );

  it.each(cases)(
    'rows %i, in %i, out %i, checkpoint %s, transposed %s, bias %s: float64 within 1e-5, the portable op within 1e-5',
    async (rows, inF, outF, layout, transposed, withBias) => {
      await expectNoLeak(async () => {
        const random = new SeededRandom(rows * 1000 + inF * 10 + outF);
        const w = random.normalArray(outF * inF, 1);
        const b = withBias ? random.normalArray(outF, 1) : undefined;
        const xValues = random.normalArray(rows * inF, 1);
        const checkpointShape = layout === 'out-in' ? [outF, inF] : [inF, outF];
        const weight = new Parameter(checkpointShape, { transposed });
        weight.assign(checkpointValues(w, outF, inF, layout));
        const bias = b ? new Parameter([outF]) : undefined;
        bias?.assign(tf.tensor1d(b!));
        const x = tf.tensor3d(xValues, [rows, 1, inF]);

        const fast = webgpuLinear(x, weight, bias, layout);
        expect(fast).toBeDefined();
        expect(fast!.shape).toEqual([rows, 1, outF]);
        const actual = await fast!.data();
        const expected = linearFloat64(xValues, w, b, rows, inF);
        for (let i = 0; i < expected.length; i++) {
          expect(Math.abs(actual[i]! - expected[i]!), `element ${i}`).toBeLessThan(
            1e-5 * Math.max(1, inF / 16),
          );
        }
        if (layout === 'out-in') {
          const portable = linear.portable(x, weight, bias);
          const reference = await portable.data();
          for (let i = 0; i < reference.length; i++) {
            expect(Math.abs(actual[i]! - reference[i]!), `element ${i}`).toBeLessThan(
              1e-5 * Math.max(1, inF / 16),
            );
          }
          portable.dispose();
        }
        tf.dispose([fast!, x]);
        weight.dispose();
        bias?.dispose();
      });
    },
  );

  it('serves the registered linear op, and leaves trainable weights to the portable ops', async () => {
    await expectNoLeak(async () => {
      const weight = new Parameter([4, 3]);
      weight.assign(tf.tensor2d([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12], [4, 3]));
      const one = tf.tensor2d([[1, 0, -1]]);
      const y = linear(one, weight); // registered: the kernel
      expect(Array.from(await y.data())).toEqual([-2, -2, -2, -2]);
      const variable = weight.makeTrainable();
      expect(webgpuLinear(one, weight)).toBeUndefined();
      expect(variable).toBe(weight.tensor);
      tf.dispose([one, y]);
      weight.dispose();
    });
  });
});
