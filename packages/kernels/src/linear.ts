import * as tf from '@tensorflow/tfjs-core';
import type { Parameter } from '@tsformer/core-tensor';
import { defineFusedOp } from './fused-op.js';

/**
 * How a linear weight's checkpoint shape reads: `out-in` is nn.Linear's `[out, in]`, `in-out` is
 * GPT-2's Conv1D `[in, out]`. (A square weight cannot tell them apart by its shape.)
 */
export type LinearWeightLayout = 'out-in' | 'in-out';

/**
 * PyTorch's `F.linear`: `y = x Wᵀ + b` for x `[..., in]` → `[..., out]`, with `weight` a Parameter of
 * checkpoint shape `[out, in]` (`layout: 'in-out'`: `[in, out]`, as GPT-2's Conv1D), stored reversed
 * when `weight.transposed`, and `bias` `[out]`.
 *
 * Backend implementations serve inference only: while `weight` is trainable they must decline, so
 * the portable tfjs ops record the gradient.
 */
export const linear = defineFusedOp(
  'linear',
  (x: tf.Tensor, weight: Parameter, bias?: Parameter, layout: LinearWeightLayout = 'out-in') =>
    tf.tidy(() => {
      const { inFeatures, outFeatures } = linearFeatures(weight, layout);
      const rows = tf.reshape(x, [-1, inFeatures]); // [tokens, in]
      let output = tf.matMul(rows, weight.tensor, false, storedOrder(weight, layout) === 'out-in'); // [tokens, out]
      if (bias) output = tf.add(output, bias.tensor);
      return tf.reshape(output, [...x.shape.slice(0, -1), outFeatures]);
    }),
);

/** The weight's input and output sizes, read from its checkpoint shape. */
export function linearFeatures(
  weight: Parameter,
  layout: LinearWeightLayout,
): { inFeatures: number; outFeatures: number } {
  const [first, second] = weight.shape as [number, number];
  return layout === 'out-in'
    ? { inFeatures: second, outFeatures: first }
    : { inFeatures: first, outFeatures: second };
}

/** The order of `weight.tensor` in memory: the checkpoint's layout, reversed when stored transposed. */
export function storedOrder(weight: Parameter, layout: LinearWeightLayout): LinearWeightLayout {
  if (!weight.transposed) return layout;
  return layout === 'out-in' ? 'in-out' : 'out-in';
}
