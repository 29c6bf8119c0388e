import * as tf from '@tensorflow/tfjs-core';
import { geluTanh, type NamedActivation } from '@tsformer/kernels';
import { UnknownActivationError } from './errors.js';

/** An element-wise activation: a new tensor of the input's shape (the input is left alone). */
export type Activation = (input: tf.Tensor) => tf.Tensor;

/** `x · Φ(x)` with the exact normal CDF (PyTorch's default `gelu`). */
function geluErf(x: tf.Tensor): tf.Tensor {
  return tf.mul(tf.mul(x, 0.5), tf.add(1, tf.erf(tf.mul(x, Math.SQRT1_2))));
}

/** `0.5x(1 + tanh(0.7978845608·x(1 + 0.044715x²)))`, HF's `FastGELUActivation`. */
function geluFast(x: tf.Tensor): tf.Tensor {
  const inner = tf.mul(tf.mul(x, 0.7978845608), tf.add(1, tf.mul(tf.square(x), 0.044715)));
  return tf.mul(tf.mul(x, 0.5), tf.add(1, tf.tanh(inner)));
}

function silu(x: tf.Tensor): tf.Tensor {
  return tf.mul(x, tf.sigmoid(x));
}

/** HF's `LaplaceActivation` with its defaults μ = 0.707107, σ = 0.282095. */
function laplace(x: tf.Tensor): tf.Tensor {
  // biome-ignore lint/suspicious/noApproximativeNumericConstant: HF's default μ is this literal, not √½.
  const scaled = tf.div(tf.sub(x, 0.707107), 0.282095 * Math.SQRT2);
  return tf.mul(0.5, tf.add(1, tf.erf(scaled)));
}

/**
 * Hugging Face's `ACT2FN` by name (every entry without learned parameters), for configs'
 * `hidden_act` / `activation_function`.
 */
const ACTIVATIONS: Readonly<Record<string, Activation>> = {
  gelu: geluErf,
  gelu_python: geluErf,
  gelu_10: (x) => tf.clipByValue(geluErf(x), -10, 10),
  // The tanh form is a fused op: the CPU kernels serve it with a WebAssembly tanh (GPT-2's MLP).
  gelu_new: geluTanh,
  gelu_pytorch_tanh: geluTanh,
  gelu_python_tanh: geluTanh,
  gelu_accurate: geluTanh,
  gelu_fast: geluFast,
  quick_gelu: (x) => tf.mul(x, tf.sigmoid(tf.mul(x, 1.702))),
  hardswish: (x) => tf.div(tf.mul(x, tf.relu6(tf.add(x, 3))), 6),
  laplace,
  leaky_relu: (x) => tf.leakyRelu(x, 0.01),
  linear: (x) => tf.clone(x),
  mish: (x) => tf.mul(x, tf.tanh(tf.softplus(x))),
  relu: (x) => tf.relu(x),
  relu2: (x) => tf.square(tf.relu(x)),
  relu6: (x) => tf.relu6(x),
  sigmoid: (x) => tf.sigmoid(x),
  silu,
  swish: silu,
  tanh: (x) => tf.tanh(x),
};

/** Every activation name `getActivation` accepts. */
export const ACTIVATION_NAMES: readonly string[] = Object.keys(ACTIVATIONS);

/** The activation HF calls `name`; an `UnknownActivationError` listing the supported names otherwise. */
export function getActivation(name: string): Activation {
  const activation = Object.hasOwn(ACTIVATIONS, name) ? ACTIVATIONS[name] : undefined;
  if (!activation) throw new UnknownActivationError(name, ACTIVATION_NAMES);
  return (input) => tf.tidy(() => activation(input));
}

/** `getActivation(name)` with its name beside it: what the fused projection ops take (a backend kernel may compute it by name). */
export function namedActivation(name: string): NamedActivation {
  return { name, apply: getActivation(name) };
}
