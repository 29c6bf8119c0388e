import * as tf from '@tensorflow/tfjs-core';
import { enableGradients, Parameter, SeededRandom, useBackend } from '@tsformer/core-tensor';
import { expectNoLeak } from '@tsformer/core-tensor/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cpuKernelsEnabled, disableCpuKernels, enableCpuKernels } from './cpu-linear.js';
import { type LinearWeightLayout, linear } from './linear.js';

/** [rows, in, out]: one row (decode), odd sizes, and more rows than one 32-row block (prefill). */
const SHAPES: [number, number, number][] = [
  [1, 37, 5],
  [3, 19, 33],
  [70, 29, 18],
];

/** 2^-24: float32's unit roundoff. */
const U = 2 ** -24;

/**
 * y = x Wᵀ + b in float64, and |ŷ − y| ≤ γ_{n+1}·(Σ|x·W| + |b|): the bound any float32 summation
 * order obeys (Higham §3.1), so both the kernel and tfjs's matMul meet it.
 */
function expectFloat32Exact(
  y: Float32Array,
  x: Float32Array,
  w: Float32Array, // [out, in]
  b: Float32Array,
  rows: number,
  inF: number,
  outF: number,
): void {
  const gamma = ((inF + 1) * U) / (1 - (inF + 1) * U);
  for (let r = 0; r < rows; r++) {
    for (let o = 0; o < outF; o++) {
      let sum = b[o]!;
      let magnitude = Math.abs(b[o]!);
      for (let i = 0; i < inF; i++) {
        sum += x[r * inF + i]! * w[o * inF + i]!;
        magnitude += Math.abs(x[r * inF + i]! * w[o * inF + i]!);
      }
      const error = Math.abs(y[r * outF + o]! - sum);
      if (error > gamma * magnitude) {
        expect.fail(`row ${r} column ${o}: ${y[r * outF + o]} vs ${sum} (bound ${gamma * magnitude})`);
      }
    }
  }
}

/** W `[out, in]` held as `layout` says, stored transposed or not. */
function weightParameter(
  w: Float32Array,
  inF: number,
  outF: number,
  layout: LinearWeightLayout,
  transposed: boolean,
) {
  const outIn = tf.tensor2d(w, [outF, inF]);
  const parameter = new Parameter(layout === 'out-in' ? [outF, inF] : [inF, outF], { transposed });
  parameter.assign(layout === 'out-in' ? outIn : tf.transpose(outIn));
  if (layout === 'in-out') outIn.dispose();
  return parameter;
}

describe.each(['wasm', 'cpu'] as const)('linear with the CPU kernels on the %s backend', (backend) => {
  beforeAll(async () => {
    await useBackend(backend);
    await enableGradients();
    await enableCpuKernels({ threads: 2 });
  });
  afterAll(() => disableCpuKernels());

  for (const [rows, inF, outF] of SHAPES) {
    for (const threads of [1, 2]) {
      it(`[${rows}, ${inF}] → ${outF} on ${threads} thread(s): both layouts, stored either way, float32-exact, no tensor left`, async () => {
        await enableCpuKernels({ threads });
        const random = new SeededRandom(rows * 100 + inF);
        const x = random.normalArray(rows * inF);
        const w = random.normalArray(outF * inF);
        const b = random.normalArray(outF);
        for (const layout of ['out-in', 'in-out'] as const) {
          for (const transposed of [false, true]) {
            await expectNoLeak(async () => {
              const weight = weightParameter(w, inF, outF, layout, transposed);
              const bias = new Parameter([outF]);
              bias.assign(tf.tensor1d(b));
              const input = tf.tensor3d(x, [1, rows, inF]);
              const y = linear(input, weight, bias, layout);
              expect(y.shape).toEqual([1, rows, outF]);
              const values = (await y.data()) as Float32Array;
              expectFloat32Exact(values, x, w, b, rows, inF, outF);
              // The packed layout is kept for the next call: the same values again.
              const again = linear(input, weight, bias, layout);
              expect(await again.data()).toEqual(values);
              tf.dispose([input, y, again]);
              weight.dispose(); // frees the packed layout with the tensor
              bias.dispose();
            });
          }
        }
      });
    }
  }

  it('repacks after the weight is written, and leaves a trainable weight to the portable path', async () => {
    const weight = new Parameter([2, 3], { transposed: true });
    weight.assign(
      tf.tensor2d([
        [1, 2, 3],
        [4, 5, 6],
      ]),
    );
    const input = tf.tensor2d([[1, 1, 1]]);
    const first = linear(input, weight);
    expect(Array.from(await first.data())).toEqual([6, 15]);
    weight.assign(
      tf.tensor2d([
        [1, 0, 0],
        [0, 0, 2],
      ]),
    );
    const second = linear(input, weight);
    expect(Array.from(await second.data())).toEqual([1, 2]);
    weight.makeTrainable();
    const { value, grads } = tf.variableGrads(() => tf.sum(linear(input, weight)), [weight.variable]);
    expect(await value.data()).toEqual(Float32Array.of(3));
    expect(Array.from(await grads[weight.variable.name]!.data())).toEqual([1, 1, 1, 1, 1, 1]);
    tf.dispose([input, first, second, value, ...Object.values(grads)]);
    weight.dispose();
  });

  it('passes the gradient through a frozen weight to the input (the kernel is off while it is recorded)', async () => {
    await expectNoLeak(async () => {
      const weight = new Parameter([2, 3], { transposed: true }); // frozen: not trainable
      weight.assign(
        tf.tensor2d([
          [1, 2, 3],
          [4, 5, 6],
        ]),
      );
      const input = tf.tensor2d([[1, -1, 2]]);
      const gradient = tf.grad((x: tf.Tensor) => tf.sum(linear(x, weight)))(input);
      // d Σ (x Wᵀ) / dx = column sums of W.
      expect(Array.from(await gradient.data())).toEqual([5, 7, 9]);
      tf.dispose([input, gradient]);
      weight.dispose();
    });
  });

  it('is registered for wasm and cpu until disabled', async () => {
    expect(cpuKernelsEnabled()).toBe(true);
    expect(linear.backends()).toEqual(expect.arrayContaining(['wasm', 'cpu']));
    disableCpuKernels();
    expect(linear.backends()).not.toContain(backend);
    await enableCpuKernels();
    expect(linear.backends()).toContain(backend);
  });
});
