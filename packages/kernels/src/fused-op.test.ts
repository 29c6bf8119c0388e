import * as tf from '@tensorflow/tfjs-core';
import { enableGradients, Parameter, useBackend } from '@tsformer/core-tensor';
import { assertClose, expectNoLeak } from '@tsformer/core-tensor/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { defineFusedOp } from './fused-op.js';
import { linear } from './linear.js';

beforeAll(async () => {
  await useBackend('cpu');
  await enableGradients();
});

describe('defineFusedOp', () => {
  const double = defineFusedOp('double', (x: number) => 2 * x);

  it('runs the portable implementation when the active backend registered none', () => {
    expect(double(3)).toBe(6);
    expect(double.backends()).toEqual([]);
  });

  it("runs the active backend's implementation, falls back when it declines, and unregisters", () => {
    const remove = double.register('cpu', (x) => (x > 10 ? undefined : -x));
    expect(double.backends()).toEqual(['cpu']);
    expect(double(3)).toBe(-3);
    expect(double(11)).toBe(22); // declined: portable
    expect(double.portable(3)).toBe(6);
    remove();
    expect(double(3)).toBe(6);
  });

  it('runs the portable implementation while a gradient is recorded, so the gradient passes through', () => {
    const square = defineFusedOp('square', (x: tf.Tensor) => tf.mul(x, x));
    let kernelCalls = 0;
    const remove = square.register('cpu', (x) => {
      kernelCalls += 1;
      // What a kernel is to the tape: a new tensor made from values, connected to nothing.
      return tf.tensor(
        Array.from(x.dataSync(), (v) => v * v),
        x.shape,
      );
    });
    const x = tf.tensor1d([1, -2, 3]);
    const gradient = tf.grad((input: tf.Tensor) => tf.sum(square(input)))(x);
    assertClose(gradient, [2, -4, 6], 0, 'd sum(x²) / dx');
    expect(kernelCalls).toBe(0);
    const y = square(x);
    expect(kernelCalls).toBe(1); // outside gradient recording the kernel serves the call
    tf.dispose([x, gradient, y]);
    remove();
  });

  it('ignores an implementation registered for another backend', () => {
    const remove = double.register('webgpu', () => 0);
    expect(double(4)).toBe(8);
    remove();
  });
});

describe('linear (portable)', () => {
  it('is x Wᵀ + b for a weight stored transposed or not, any leading shape, no tensor left', async () => {
    // W [out 3, in 2]; x [2, 1, 2]
    const w = [
      [1, 2],
      [3, 4],
      [5, 6],
    ];
    const b = [0.5, -1, 2];
    const x = [[[1, -1]], [[2, 0.5]]];
    const expected = x.map((row) => row.map((v) => w.map((wo, o) => wo[0] * v[0] + wo[1] * v[1] + b[o])));
    for (const transposed of [false, true]) {
      await expectNoLeak(async () => {
        const weight = new Parameter([3, 2], { transposed });
        weight.assign(tf.tensor2d(w));
        const bias = new Parameter([3]);
        bias.assign(tf.tensor1d(b));
        const input = tf.tensor3d(x);
        const y = linear(input, weight, bias);
        expect(y.shape).toEqual([2, 1, 3]);
        assertClose(y, expected.flat(2), 1e-6, 'linear');
        tf.dispose([y, input]);
        weight.dispose();
        bias.dispose();
      });
    }
  });
});
