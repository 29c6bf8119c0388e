import * as tf from '@tensorflow/tfjs-core';
import { Parameter, SeededRandom, useBackend } from '@tsformer/core-tensor';
import { expectNoLeak } from '@tsformer/core-tensor/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  gatedProjection,
  linearActivation,
  linearResidual,
  type NamedActivation,
} from '../projection-ops.js';
import { bf16BitsToFloat32, float32ToBf16Bits } from '../weight-dtypes.js';
import { disableWebgpuKernels, enableWebgpuKernels } from './enable-webgpu-kernels.js';
import { fastDispatchStats } from './fast-dispatch.js';
import { gemmGrid } from './gemm-grid.js';
import { gpuLinearWeight, webgpuLinearWithEpilogue } from './webgpu-linear.js';

beforeAll(async () => {
  await useBackend('webgpu');
  enableWebgpuKernels();
});
afterAll(() => disableWebgpuKernels());

const silu = (v: number) => v / (1 + Math.exp(-v));
const SILU: NamedActivation = { name: 'silu', apply: (x) => tf.mul(x, tf.sigmoid(x)) };
const GELU_NEW: NamedActivation = {
  name: 'gelu_new',
  apply: (x) =>
    tf.mul(
      tf.mul(x, 0.5),
      tf.add(1, tf.tanh(tf.mul(tf.add(x, tf.mul(tf.pow(x, 3), 0.044715)), Math.sqrt(2 / Math.PI)))),
    ),
};

/** Seeded `[out, in]` values (bf16-exact when asked) and the Parameter holding them in `layout`. */
function weightOf(outF: number, inF: number, seed: number, bf16: boolean, layout: 'out-in' | 'in-out') {
  let values = new SeededRandom(seed).normalArray(outF * inF, 0.5);
  if (bf16) values = values.map((v) => bf16BitsToFloat32(float32ToBf16Bits(v)));
  const outIn = tf.tensor2d(values, [outF, inF]);
  const stored = layout === 'out-in' ? outIn : tf.transpose(outIn);
  const weight = new Parameter(stored.shape, { transposed: true });
  weight.assign(stored);
  if (stored !== outIn) outIn.dispose();
  return { weight, values };
}

function biasOf(size: number, seed: number) {
  const values = new SeededRandom(seed).normalArray(size, 0.5);
  const bias = new Parameter([size]);
  bias.assign(tf.tensor1d(values));
  return { bias, values };
}

/** `Σ_k x[r, k] · W[o, k] + b[o]` in float64, `[rows, out]`. */
function productFloat64(x: Float32Array, w: Float32Array, b: Float32Array, rows: number, inF: number) {
  const outF = b.length;
  const y = new Float64Array(rows * outF);
  for (let r = 0; r < rows; r++) {
    for (let o = 0; o < outF; o++) {
      let sum = b[o]!;
      for (let k = 0; k < inF; k++) sum += x[r * inF + k]! * w[o * inF + k]!;
      y[r * outF + o] = sum;
    }
  }
  return y;
}

/** Each element within `tolerance` of the expected one, relative to it where it exceeds 1 (gated products reach ~100). */
async function expectClose(actual: tf.Tensor, expected: tf.Tensor | Float64Array, tolerance: number) {
  const a = await actual.data();
  const e = expected instanceof Float64Array ? expected : await expected.data();
  expect(a.length).toBe(e.length);
  for (let i = 0; i < e.length; i++) {
    expect(Math.abs(a[i]! - e[i]!), `element ${i}`).toBeLessThan(tolerance * Math.max(1, Math.abs(e[i]!)));
  }
}

describe('the prefill GEMM, split over in and whole (dispatchGemm)', () => {
  // in not a multiple of the 32-long slice step, out not a multiple of 4, partial tiles on every side.
  const shapes = [
    [9, 130, 65],
    [45, 300, 70],
    [70, 257, 33],
  ] as const;
  const cases = shapes.flatMap((shape) =>
    (['out-in', 'in-out'] as const).flatMap((layout) =>
      [false, true].flatMap((bf16) => [3, 1].map((splits) => [...shape, layout, bf16, splits] as const)),
    ),
  );

  it.each(cases)(
    'rows %i, in %i, out %i, %s, bf16 %s, split over in %i: every epilogue against float64 and the portable ops',
    async (rows, inF, outF, layout, bf16, splits) => {
      await expectNoLeak(async () => {
        // Three slices, the last one shorter (in is not a multiple of the slice), or none.
        const grid = gemmGrid(rows, inF, outF, { splits });
        expect(grid.splits).toBe(splits);
        expect(inF % grid.slice).not.toBe(0);
        const gate = weightOf(outF, inF, inF + outF, bf16, layout);
        const up = weightOf(outF, inF, inF + outF + 1, bf16, layout);
        expect(await gpuLinearWeight(gate.weight, layout).ready).toBe(bf16);
        await gpuLinearWeight(up.weight, layout).ready;
        const gateBias = biasOf(outF, outF);
        const upBias = biasOf(outF, outF + 1);
        const random = new SeededRandom(rows);
        const xValues = random.normalArray(rows * inF, 1);
        const residualValues = random.normalArray(rows * outF, 1);
        const x = tf.tensor3d(xValues, [rows, 1, inF]);
        const residual = tf.tensor3d(residualValues, [rows, 1, outF]);
        const projection = { weight: gate.weight, bias: gateBias.bias, layout };
        const upProjection = { weight: up.weight, bias: upBias.bias, layout };
        const tolerance = 1e-5 * Math.max(1, inF / 16);
        const gateSums = productFloat64(xValues, gate.values, gateBias.values, rows, inF);
        const upSums = productFloat64(xValues, up.values, upBias.values, rows, inF);
        const results: tf.Tensor[] = [];
        /** The GEMM with `epilogue`, asserting its dispatches: two when split (product, then the reduce). */
        const gemm = (epilogue: Parameters<typeof webgpuLinearWithEpilogue>[2]) => {
          const before = fastDispatchStats().dispatches;
          const y = webgpuLinearWithEpilogue(x, projection, epilogue, { splits })!;
          expect(fastDispatchStats().dispatches - before).toBe(splits > 1 ? 2 : 1);
          expect(y.shape).toEqual([rows, 1, outF]);
          results.push(y);
          return y;
        };
        const portable = (y: tf.Tensor) => {
          results.push(y);
          return y;
        };

        await expectClose(gemm({}), gateSums, tolerance);
        await expectClose(
          gemm({ residual }),
          gateSums.map((v, i) => v + residualValues[i]!),
          tolerance,
        );
        await expectClose(
          gemm({ residual }),
          portable(linearResidual.portable(x, projection, residual)),
          tolerance,
        );
        await expectClose(gemm({ activation: SILU }), gateSums.map(silu), tolerance);
        await expectClose(
          gemm({ activation: GELU_NEW }),
          portable(linearActivation.portable(x, projection, GELU_NEW)),
          tolerance,
        );
        await expectClose(
          gemm({ activation: SILU, up: upProjection }),
          gateSums.map((v, i) => silu(v) * upSums[i]!),
          tolerance,
        );
        await expectClose(
          gemm({ activation: GELU_NEW, up: upProjection }),
          portable(gatedProjection.portable(x, projection, upProjection, GELU_NEW)),
          tolerance,
        );
        tf.dispose([x, residual, ...results]);
        for (const p of [gate.weight, up.weight, gateBias.bias, upBias.bias]) p.dispose();
      });
    },
  );

  it('gives the same bits on every run of one split (slices added in a fixed order)', async () => {
    await expectNoLeak(async () => {
      const gate = weightOf(40, 300, 7, false, 'out-in');
      const x = tf.tensor2d(new SeededRandom(3).normalArray(50 * 300, 1), [50, 300]);
      const projection = { weight: gate.weight, layout: 'out-in' as const };
      const runs = [];
      for (let i = 0; i < 3; i++) {
        const y = webgpuLinearWithEpilogue(x, projection, {}, { splits: 3 })!;
        runs.push(Array.from(await y.data()));
        y.dispose();
      }
      expect(runs[1]).toEqual(runs[0]);
      expect(runs[2]).toEqual(runs[0]);
      x.dispose();
      gate.weight.dispose();
    });
  });
});
