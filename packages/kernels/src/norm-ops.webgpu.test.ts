import * as tf from '@tensorflow/tfjs-core';
import { Parameter, SeededRandom, useBackend } from '@tsformer/core-tensor';
import { expectNoLeak } from '@tsformer/core-tensor/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addNormalize, type NormSpec, normalize } from './norm-ops.js';
import { disableWebgpuKernels, enableWebgpuKernels } from './webgpu/enable-webgpu-kernels.js';
import { fastDispatchStats } from './webgpu/fast-dispatch.js';

beforeAll(async () => {
  await useBackend('webgpu');
  enableWebgpuKernels();
});
afterAll(() => disableWebgpuKernels());

function parameter(values: Float32Array): Parameter {
  const p = new Parameter([values.length]);
  p.assign(tf.tensor1d(values));
  return p;
}

/** The spec's norm of each row in float64 (an independent reference). */
function normFloat64(x: Float32Array, hidden: number, spec: NormSpec, w?: Float32Array, b?: Float32Array) {
  const out = new Float64Array(x.length);
  for (let base = 0; base < x.length; base += hidden) {
    const row = Array.from(x.subarray(base, base + hidden));
    const mean = spec.kind === 'rms' ? 0 : row.reduce((s, v) => s + v, 0) / hidden;
    const variance = row.reduce((s, v) => s + (v - mean) ** 2, 0) / hidden;
    const inverse = 1 / Math.sqrt(variance + spec.eps);
    for (let i = 0; i < hidden; i++) {
      const normalized = (row[i]! - mean) * inverse;
      out[base + i] =
        spec.kind === 'rms'
          ? (spec.weightOffset + w![i]!) * normalized
          : normalized * (w ? w[i]! : 1) + (b ? b[i]! : 0);
    }
  }
  return out;
}

function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tolerance: number) {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    expect(Math.abs(actual[i]! - expected[i]!), `element ${i}`).toBeLessThan(tolerance);
  }
}

describe('normalize and addNormalize on webgpu (one dispatch each)', () => {
  const shapes: [number[], string][] = [
    [[1, 1, 7], 'one decode row'],
    [[2, 3, 33], 'six rows'],
    [[1, 5, 300], 'rows wider than a workgroup'],
    [[1, 2, 1], 'hidden 1'],
  ];
  const specs = ['rms', 'rms-gemma', 'layer', 'layer-no-bias', 'layer-no-affine'] as const;
  it.each(shapes.flatMap(([shape, label]) => specs.map((kind) => [label, kind, shape] as const)))(
    '%s, %s: one dispatch, within 1e-5 of float64 and of the portable ops; the residual form too',
    async (_label, kind, shape) => {
      await expectNoLeak(async () => {
        const hidden = shape.at(-1)!;
        const random = new SeededRandom(hidden * 7 + shape.length);
        const xValues = random.normalArray(tf.util.sizeFromShape(shape), 2);
        const deltaValues = random.normalArray(xValues.length, 1);
        const w = random.normalArray(hidden, 1);
        const b = random.normalArray(hidden, 1);
        const weight = kind === 'layer-no-affine' ? undefined : parameter(w);
        const bias = kind === 'layer' ? parameter(b) : undefined;
        const spec: NormSpec = kind.startsWith('rms')
          ? { kind: 'rms', weight: weight!, eps: 1e-6, weightOffset: kind === 'rms-gemma' ? 1 : 0 }
          : { kind: 'layer', weight, bias, eps: 1e-5 };
        const x = tf.tensor(xValues, shape);
        const delta = tf.tensor(deltaValues, shape);
        const before = fastDispatchStats().dispatches;
        const fast = normalize(x, spec);
        const fused = addNormalize(x, delta, spec);
        expect(fastDispatchStats().dispatches - before).toBe(2);
        const portable = normalize.portable(x, spec);
        const portableFused = addNormalize.portable(x, delta, spec);
        expect(fast.shape).toEqual(shape);
        const tolerance = 1e-5 * Math.max(1, Math.sqrt(hidden));
        const wValues = weight ? w : undefined;
        const bValues = bias ? b : undefined;
        expectClose(await fast.data(), normFloat64(xValues, hidden, spec, wValues, bValues), tolerance);
        expectClose(await fast.data(), await portable.data(), tolerance);
        const sumValues = xValues.map((v, i) => v + deltaValues[i]!);
        expect(Array.from(await fused.sum.data())).toEqual(Array.from(sumValues));
        expectClose(
          await fused.normed.data(),
          normFloat64(sumValues, hidden, spec, wValues, bValues),
          tolerance,
        );
        expectClose(await fused.normed.data(), await portableFused.normed.data(), tolerance);
        tf.dispose([
          x,
          delta,
          fast,
          fused.sum,
          fused.normed,
          portable,
          portableFused.sum,
          portableFused.normed,
        ]);
        weight?.dispose();
        bias?.dispose();
      });
    },
  );

  it('leaves trainable parameters to the portable ops (gradients)', async () => {
    await expectNoLeak(async () => {
      const weight = parameter(new Float32Array([1, 2, 3]));
      weight.makeTrainable();
      const x = tf.tensor2d([[1, 2, 3]]);
      const before = fastDispatchStats().dispatches;
      const y = normalize(x, { kind: 'rms', weight, eps: 1e-6, weightOffset: 0 });
      expect(fastDispatchStats().dispatches).toBe(before);
      tf.dispose([x, y]);
      weight.dispose();
    });
  });
});
