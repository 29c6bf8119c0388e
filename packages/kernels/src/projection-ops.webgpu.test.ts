import * as tf from '@tensorflow/tfjs-core';
import { Parameter, SeededRandom, useBackend } from '@tsformer/core-tensor';
import { expectNoLeak } from '@tsformer/core-tensor/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gatedProjection, linearActivation, linearResidual, type NamedActivation } from './projection-ops.js';
import { disableWebgpuKernels, enableWebgpuKernels } from './webgpu/enable-webgpu-kernels.js';
import { fastDispatchStats } from './webgpu/fast-dispatch.js';
import { gpuLinearWeight } from './webgpu/webgpu-linear.js';
import { bf16BitsToFloat32, float32ToBf16Bits } from './weight-dtypes.js';

beforeAll(async () => {
  await useBackend('webgpu');
  enableWebgpuKernels();
});
afterAll(() => disableWebgpuKernels());

const SILU: NamedActivation = { name: 'silu', apply: (x) => tf.mul(x, tf.sigmoid(x)) };
const GELU_NEW: NamedActivation = {
  name: 'gelu_new',
  apply: (x) =>
    tf.mul(
      tf.mul(x, 0.5),
      tf.add(1, tf.tanh(tf.mul(tf.add(x, tf.mul(tf.pow(x, 3), 0.044715)), Math.sqrt(2 / Math.PI)))),
    ),
};
const GELU: NamedActivation = {
  name: 'gelu',
  apply: (x) => tf.mul(tf.mul(x, 0.5), tf.add(1, tf.erf(tf.mul(x, Math.SQRT1_2)))),
};
const MISH: NamedActivation = { name: 'mish', apply: (x) => tf.mul(x, tf.tanh(tf.softplus(x))) };

/** A `[out, in]` (or `[in, out]`) weight of seeded values, rounded to bf16 when asked. */
function weightOf(shape: [number, number], seed: number, bf16: boolean, transposed: boolean): Parameter {
  let values = new SeededRandom(seed).normalArray(shape[0] * shape[1], 0.5);
  if (bf16) values = values.map((v) => bf16BitsToFloat32(float32ToBf16Bits(v)));
  const weight = new Parameter(shape, { transposed });
  weight.assign(tf.tensor2d(values, shape));
  return weight;
}

function biasOf(size: number, seed: number): Parameter {
  const bias = new Parameter([size]);
  bias.assign(tf.tensor1d(new SeededRandom(seed).normalArray(size, 0.5)));
  return bias;
}

async function expectClose(actual: tf.Tensor, expected: tf.Tensor, tolerance: number) {
  expect(actual.shape).toEqual(expected.shape);
  const [a, e] = [await actual.data(), await expected.data()];
  for (let i = 0; i < e.length; i++) expect(Math.abs(a[i]! - e[i]!), `element ${i}`).toBeLessThan(tolerance);
}

/** Runs `call` and returns its result with the number of tsformer dispatches it made. */
function counted(call: () => tf.Tensor): [tf.Tensor, number] {
  const before = fastDispatchStats().dispatches;
  const result = call();
  return [result, fastDispatchStats().dispatches - before];
}

describe('projection ops on webgpu, against their portable ops', () => {
  const cases = [
    [1, 5, 3, 'out-in', false],
    [1, 67, 129, 'out-in', true],
    [3, 33, 65, 'in-out', false],
    [4, 130, 70, 'in-out', true],
    [37, 67, 129, 'out-in', true],
    [70, 33, 65, 'in-out', false],
  ] as const;

  it.each(cases)(
    'rows %i, in %i, out %i, %s, bf16 %s: linearResidual and linearActivation in one dispatch each',
    async (rows, inF, outF, layout, bf16) => {
      await expectNoLeak(async () => {
        const shape: [number, number] = layout === 'out-in' ? [outF, inF] : [inF, outF];
        const weight = weightOf(shape, inF + outF, bf16, layout === 'out-in');
        expect(await gpuLinearWeight(weight, layout).ready).toBe(bf16);
        const bias = biasOf(outF, outF);
        const random = new SeededRandom(rows);
        const x = tf.tensor3d(random.normalArray(rows * inF, 1), [rows, 1, inF]);
        const residual = tf.tensor3d(random.normalArray(rows * outF, 1), [rows, 1, outF]);
        const projection = { weight, bias, layout };
        const tolerance = 1e-5 * Math.max(1, inF / 16);
        const [added, addDispatches] = counted(() => linearResidual(x, projection, residual));
        expect(addDispatches).toBe(1);
        const expectedAdded = linearResidual.portable(x, projection, residual);
        await expectClose(added, expectedAdded, tolerance);
        const results = [added, expectedAdded];
        for (const activation of [SILU, GELU_NEW, GELU]) {
          const [activated, dispatches] = counted(() => linearActivation(x, projection, activation));
          expect(dispatches).toBe(1);
          const expected = linearActivation.portable(x, projection, activation);
          await expectClose(activated, expected, tolerance);
          results.push(activated, expected);
        }
        const [declined, dispatches] = counted(() => linearActivation(x, projection, MISH)); // no WGSL form
        expect(dispatches).toBe(1); // the portable path's linear kernel only
        results.push(declined);
        tf.dispose([x, residual, ...results]);
        weight.dispose();
        bias.dispose();
      });
    },
  );

  it.each([
    [1, 7, 9, 'out-in', false, false],
    [1, 64, 172, 'out-in', true, true],
    [2, 33, 65, 'in-out', false, true],
    [4, 70, 45, 'out-in', true, false],
    [5, 33, 65, 'in-out', false, true],
    [40, 64, 172, 'out-in', true, true],
  ] as const)(
    'rows %i, hidden %i, intermediate %i, %s, bf16 %s, biases %s: gatedProjection in one pass over both weights',
    async (rows, hidden, intermediate, layout, bf16, withBias) => {
      await expectNoLeak(async () => {
        const shape: [number, number] = layout === 'out-in' ? [intermediate, hidden] : [hidden, intermediate];
        const gateWeight = weightOf(shape, 1, bf16, true);
        const upWeight = weightOf(shape, 2, bf16, true);
        await Promise.all([
          gpuLinearWeight(gateWeight, layout).ready,
          gpuLinearWeight(upWeight, layout).ready,
        ]);
        const gate = { weight: gateWeight, bias: withBias ? biasOf(intermediate, 3) : undefined, layout };
        const up = { weight: upWeight, bias: withBias ? biasOf(intermediate, 4) : undefined, layout };
        const x = tf.tensor2d(new SeededRandom(hidden).normalArray(rows * hidden, 1), [rows, hidden]);
        const tolerance = 1e-5 * Math.max(1, hidden / 16);
        const results = [];
        for (const activation of [SILU, GELU_NEW]) {
          const [fused, dispatches] = counted(() => gatedProjection(x, gate, up, activation));
          expect(dispatches).toBe(1);
          const expected = gatedProjection.portable(x, gate, up, activation);
          await expectClose(fused, expected, tolerance);
          results.push(fused, expected);
        }
        tf.dispose([x, ...results]);
        for (const p of [gateWeight, upWeight, gate.bias, up.bias]) p?.dispose();
      });
    },
  );

  it('leaves trainable weights to the portable ops', async () => {
    await expectNoLeak(async () => {
      const weight = weightOf([4, 3], 5, false, true);
      weight.makeTrainable();
      const one = tf.ones([1, 3]);
      const [training, trainingDispatches] = counted(() => linearActivation(one, { weight }, SILU));
      expect(trainingDispatches).toBe(0);
      tf.dispose([one, training]);
      weight.dispose();
    });
  });
});
