import * as tf from '@tensorflow/tfjs-core';
import { enableGradients, SeededRandom, useBackend } from '@tsformer/core-tensor';
import { expectNoLeak } from '@tsformer/core-tensor/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { disableCpuKernels, enableCpuKernels } from './cpu-linear.js';
import { geluTanh } from './gelu.js';

/** gelu_new in float64 (Math.tanh), the reference both float32 implementations approximate. */
function geluFloat64(x: number): number {
  return 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3)));
}

/**
 * Inputs where each branch of the kernel's tanh works: around 0 (the series), the switch at
 * |inner| = 0.625, the exponential form up to saturation (|inner| ≥ 9 from |x| ≈ 4.6), large values,
 * zeros of both signs, a count that is not a multiple of 4.
 */
function inputs(): Float32Array {
  const random = new SeededRandom(5);
  const spread = Array.from(random.normalArray(2001, 3));
  const ramp = Array.from({ length: 1201 }, (_, k) => -6 + k * 0.01);
  return Float32Array.from([...spread, ...ramp, 0, -0, 1e-30, -1e-30, 1e-3, -50, 50, 0.6, -0.6, 0.7]);
}

describe.each(['cpu', 'wasm'] as const)('geluTanh on %s with the CPU kernels', (backend) => {
  beforeAll(async () => {
    await useBackend(backend);
    await enableCpuKernels({ threads: 1 });
  });
  afterAll(() => {
    disableCpuKernels();
  });

  it('stays within a few float32 units of tfjs ops and of float64, leaking no tensor', async () => {
    expect(geluTanh.backends()).toContain(backend);
    const values = inputs();
    const x = tf.tensor2d(values, [1, values.length]);
    const [fused, portable] = await expectNoLeak(async () => {
      const a = geluTanh(x);
      const b = geluTanh.portable(x);
      const result = [(await a.data()) as Float32Array, (await b.data()) as Float32Array];
      tf.dispose([a, b]);
      return result;
    });
    x.dispose();
    // tanh within 4 units in the last place moves y = 0.5x(1 + t) by at most 0.5|x|·4·2⁻²⁴.
    for (let k = 0; k < values.length; k++) {
      const allowed = 2 ** -22 * Math.abs(values[k]!);
      const exact = geluFloat64(values[k]!);
      if (Math.abs(fused[k]! - portable[k]!) > allowed) {
        expect.fail(`x = ${values[k]}: kernel ${fused[k]}, tfjs ${portable[k]}`);
      }
      if (Math.abs(fused[k]! - exact) > Math.abs(portable[k]! - exact) + allowed) {
        expect.fail(
          `x = ${values[k]}: kernel ${fused[k]} is further from ${exact} than tfjs's ${portable[k]}`,
        );
      }
    }
  });

  it('keeps the shape, and leaves a recorded gradient to the tfjs ops', async () => {
    await enableGradients();
    const x = tf.tensor3d([-2, -0.5, 0, 0.5, 1, 3], [1, 2, 3]);
    const y = geluTanh(x);
    expect(y.shape).toEqual([1, 2, 3]);
    const gradient = tf.grad((input: tf.Tensor) => tf.sum(geluTanh(input)))(x);
    const expected = tf.grad((input: tf.Tensor) => tf.sum(geluTanh.portable(input)))(x);
    expect(await gradient.data()).toEqual(await expected.data());
    tf.dispose([x, y, gradient, expected]);
  });
});
