import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '@tsformer/core-tensor';
import { assertClose, expectNoLeak } from '@tsformer/core-tensor/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { erf } from '../test/float64.js';
import { ACTIVATION_NAMES, getActivation } from './activations.js';
import { UnknownActivationError } from './errors.js';

beforeAll(async () => {
  await useBackend('wasm');
});

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));
const gelu = (x: number) => 0.5 * x * (1 + erf(x / Math.SQRT2));
const geluTanh = (x: number) => 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3)));
const relu = (x: number) => Math.max(0, x);
const silu = (x: number) => x * sigmoid(x);

/** Each HF ACT2FN entry written out from its definition in transformers/activations.py. */
const formulas: Record<string, (x: number) => number> = {
  gelu,
  gelu_python: gelu,
  gelu_10: (x) => Math.min(10, Math.max(-10, gelu(x))),
  gelu_new: geluTanh,
  gelu_pytorch_tanh: geluTanh,
  gelu_python_tanh: geluTanh,
  gelu_accurate: geluTanh,
  gelu_fast: (x) => 0.5 * x * (1 + Math.tanh(x * 0.7978845608 * (1 + 0.044715 * x * x))),
  quick_gelu: (x) => x * sigmoid(1.702 * x),
  hardswish: (x) => (x <= -3 ? 0 : x >= 3 ? x : (x * (x + 3)) / 6),
  // biome-ignore lint/suspicious/noApproximativeNumericConstant: HF's default μ is this literal, not √½.
  laplace: (x) => 0.5 * (1 + erf((x - 0.707107) / (0.282095 * Math.SQRT2))),
  leaky_relu: (x) => (x >= 0 ? x : 0.01 * x),
  linear: (x) => x,
  mish: (x) => x * Math.tanh(Math.log1p(Math.exp(x))),
  relu,
  relu2: (x) => relu(x) ** 2,
  relu6: (x) => Math.min(6, relu(x)),
  sigmoid,
  silu,
  swish: silu,
  tanh: Math.tanh,
};

const inputs = Array.from({ length: 121 }, (_, i) => -12 + i * 0.2);

describe('activations', () => {
  it('implements exactly the names we have formulas for', () => {
    expect([...ACTIVATION_NAMES].sort()).toEqual(Object.keys(formulas).sort());
  });

  it.each(Object.keys(formulas))('%s matches its float64 formula', async (name) => {
    await expectNoLeak(() => {
      const x = tf.tensor1d(inputs);
      const y = getActivation(name)(x);
      // relu2 reaches 144 at x = 12: compare relative to magnitude there.
      const expected = inputs.map(formulas[name]!);
      const atol = name === 'relu2' ? 2e-5 : 2e-6 * 12;
      assertClose(y, expected, atol, name);
      tf.dispose([x, y]);
    });
  });

  it('never returns its input tensor (the caller may dispose either)', () => {
    const x = tf.tensor1d([1, 2]);
    const y = getActivation('linear')(x);
    expect(y).not.toBe(x);
    tf.dispose([x, y]);
  });

  it('rejects an unknown name with the list of supported ones', () => {
    expect(() => getActivation('gelu_nope')).toThrow(UnknownActivationError);
    expect(() => getActivation('gelu_nope')).toThrow(/unknown activation "gelu_nope"; supported: gelu, /);
    expect(() => getActivation('constructor')).toThrow(UnknownActivationError);
  });
});
