import * as tf from '@tensorflow/tfjs-core';
import { enableGradients, Parameter, SeededRandom, useBackend } from '@tsformer/core-tensor';
import { expectNoLeak } from '@tsformer/core-tensor/testing';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { disableCpuKernels, enableCpuKernels } from './cpu-linear.js';
import { addNormalize, type NormSpec, normalize } from './norm-ops.js';

/** 2^-24: float32's unit roundoff. */
const U = 2 ** -24;

/** `spec`'s normalization of each row of `x` `[rows, hidden]` in float64. */
function normalizeFloat64(x: Float32Array, hidden: number, spec: NormSpec, values: SpecValues): number[] {
  const result: number[] = [];
  for (let start = 0; start < x.length; start += hidden) {
    const row = Array.from(x.subarray(start, start + hidden));
    const mean = spec.kind === 'layer' ? row.reduce((a, b) => a + b, 0) / hidden : 0;
    const centered = row.map((v) => v - mean);
    const inverse = 1 / Math.sqrt(centered.reduce((a, v) => a + v * v, 0) / hidden + spec.eps);
    centered.forEach((v, d) => {
      const offset = spec.kind === 'rms' ? spec.weightOffset : 0;
      const scaled = v * inverse * (values.weight ? values.weight[d]! + offset : 1);
      result.push(scaled + (values.bias ? values.bias[d]! : 0));
    });
  }
  return result;
}

interface SpecValues {
  weight?: Float32Array;
  bias?: Float32Array;
}

/** Each element within (hidden + 8)·u·(1 + |expected|): float32 sums of `hidden` terms, then a few ops. */
function expectNear(actual: ArrayLike<number>, expected: ArrayLike<number>, hidden: number): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    const bound = (hidden + 8) * U * (1 + Math.abs(expected[i]!));
    if (!(Math.abs(actual[i]! - expected[i]!) <= bound)) {
      expect.fail(`element ${i}: ${actual[i]} vs ${expected[i]} (bound ${bound})`);
    }
  }
}

function parameter(values: Float32Array): Parameter {
  const p = new Parameter([values.length]);
  p.assign(tf.tensor1d(values));
  return p;
}

/** Every spec the layers build: RMSNorm with and without Gemma's offset, LayerNorm with weight and bias, weight only, neither. */
function specs(random: SeededRandom, hidden: number): { name: string; spec: NormSpec; values: SpecValues }[] {
  const weight = random.normalArray(hidden);
  const bias = random.normalArray(hidden);
  return [
    {
      name: 'RMSNorm',
      spec: { kind: 'rms', weight: parameter(weight), eps: 1e-6, weightOffset: 0 },
      values: { weight },
    },
    {
      name: 'RMSNorm (offset 1)',
      spec: { kind: 'rms', weight: parameter(weight), eps: 1e-5, weightOffset: 1 },
      values: { weight },
    },
    {
      name: 'LayerNorm',
      spec: { kind: 'layer', weight: parameter(weight), bias: parameter(bias), eps: 1e-5 },
      values: { weight, bias },
    },
    {
      name: 'LayerNorm (weight, no bias)',
      spec: { kind: 'layer', weight: parameter(weight), bias: undefined, eps: 1e-5 },
      values: { weight },
    },
    {
      name: 'LayerNorm (no affine)',
      spec: { kind: 'layer', weight: undefined, bias: undefined, eps: 1e-5 },
      values: {},
    },
  ];
}

function disposeSpec(spec: NormSpec): void {
  spec.weight?.dispose();
  if (spec.kind === 'layer') spec.bias?.dispose();
}

/** [rows, hidden]: one row (decode), odd sizes, several rows. */
const SHAPES: [number, number][] = [
  [1, 7],
  [3, 37],
  [5, 768],
];

describe.each(['wasm', 'cpu'] as const)(
  'normalize and addNormalize with the CPU kernels on %s',
  (backend) => {
    let kernelCalls: ReturnType<typeof vi.spyOn>;
    beforeAll(async () => {
      await useBackend(backend);
      await enableGradients();
      const pool = await enableCpuKernels({ threads: 2 });
      kernelCalls = vi.spyOn(pool, 'callOnCaller');
    });
    afterAll(() => {
      kernelCalls.mockRestore();
      disableCpuKernels();
    });

    it('are served by the kernel on this backend', () => {
      expect(normalize.backends()).toContain(backend);
      expect(addNormalize.backends()).toContain(backend);
    });

    for (const [rows, hidden] of SHAPES) {
      it(`[${rows}, ${hidden}]: every norm matches float64 and the portable op, the sum is exact, no tensor left`, async () => {
        const random = new SeededRandom(rows * 1000 + hidden);
        const residual = random.normalArray(rows * hidden);
        const delta = random.normalArray(rows * hidden);
        const sum = residual.map((v, i) => v + delta[i]!);
        for (const { name, spec, values } of specs(random, hidden)) {
          kernelCalls.mockClear();
          await expectNoLeak(async () => {
            const residualTensor = tf.tensor3d(residual, [1, rows, hidden]);
            const deltaTensor = tf.tensor3d(delta, [1, rows, hidden]);
            const normed = normalize(residualTensor, spec);
            const portable = normalize.portable(residualTensor, spec);
            expect(normed.shape, name).toEqual([1, rows, hidden]);
            expectNear(await normed.data(), normalizeFloat64(residual, hidden, spec, values), hidden);
            expectNear(await normed.data(), await portable.data(), 2 * hidden);

            const added = addNormalize(residualTensor, deltaTensor, spec);
            expect(await added.sum.data()).toEqual(sum);
            expectNear(await added.normed.data(), normalizeFloat64(sum, hidden, spec, values), hidden);
            tf.dispose([residualTensor, deltaTensor, normed, portable, added.sum, added.normed]);
          });
          const served = kernelCalls.mock.calls.filter(([kernel]) => kernel === 'normalizeRows');
          expect(served.length, `${name}: kernel calls`).toBe(2);
          disposeSpec(spec);
        }
      });
    }

    it('leaves a trainable weight and a recorded gradient to the portable op', async () => {
      await expectNoLeak(async () => {
        const weight = parameter(Float32Array.of(1, 2, 3));
        weight.makeTrainable();
        const spec: NormSpec = { kind: 'rms', weight, eps: 1e-6, weightOffset: 0 };
        const x = tf.tensor2d([[1, -2, 0.5]]);
        const { value, grads } = tf.variableGrads(() => tf.sum(normalize(x, spec)), [weight.variable]);
        expect(grads[weight.variable.name]).toBeDefined();
        const frozen: NormSpec = { kind: 'layer', weight: undefined, bias: undefined, eps: 1e-5 };
        const gradient = tf.grad((input: tf.Tensor) => tf.sum(tf.mul(normalize(input, frozen), input)))(x);
        const expected = tf.grad((input: tf.Tensor) =>
          tf.sum(tf.mul(normalize.portable(input, frozen), input)),
        )(x);
        expectNear(await gradient.data(), await expected.data(), 3);
        tf.dispose([x, value, gradient, expected, ...Object.values(grads)]);
        weight.dispose();
      });
    });
  },
);
