import * as tf from '@tensorflow/tfjs-core';
import type { Parameter } from '@tsformer/core-tensor';
import { defineFusedOp } from './fused-op.js';

/**
 * PyTorch's `F.linear`: `y = x Wᵀ + b` for x `[..., in]` → `[..., out]`, with `weight` a Parameter of
 * checkpoint shape `[out, in]` (stored `[in, out]` when `weight.transposed`) and `bias` `[out]`.
 *
 * Backend implementations serve inference only: while `weight` is trainable they must decline, so
 * the portable tfjs ops record the gradient.
 */
export const linear = defineFusedOp('linear', (x: tf.Tensor, weight: Parameter, bias?: Parameter) =>
  tf.tidy(() => {
    const [outFeatures, inFeatures] = weight.shape as [number, number];
    const rows = tf.reshape(x, [-1, inFeatures]); // [tokens, in]
    let output = tf.matMul(rows, weight.tensor, false, !weight.transposed); // [tokens, out]
    if (bias) output = tf.add(output, bias.tensor);
    return tf.reshape(output, [...x.shape.slice(0, -1), outFeatures]);
  }),
);
