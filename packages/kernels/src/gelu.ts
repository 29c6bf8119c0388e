import * as tf from '@tensorflow/tfjs-core';
import { defineFusedOp } from './fused-op.js';

const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);

/**
 * GELU's tanh approximation `0.5x(1 + tanh(√(2/π)(x + 0.044715x³)))`, HF's `gelu_new` (GPT-2) and
 * `gelu_pytorch_tanh`, element-wise, a new tensor of x's shape.
 *
 * Backend implementations serve inference only: while a gradient is being recorded they decline, so
 * the portable tfjs ops record it.
 */
export const geluTanh = defineFusedOp('geluTanh', (x: tf.Tensor) =>
  tf.tidy(() => {
    const cube = tf.mul(tf.mul(x, x), x); // x³ by multiplies: tf.pow is slow on wasm
    const inner = tf.mul(tf.add(x, tf.mul(cube, 0.044715)), SQRT_2_OVER_PI);
    return tf.mul(tf.mul(x, 0.5), tf.add(1, tf.tanh(inner)));
  }),
);
