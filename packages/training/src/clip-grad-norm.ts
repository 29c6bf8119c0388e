import * as tf from '@tensorflow/tfjs-core';
import type { Parameter } from '@tsformer/core-tensor';
import { checkHyperparameter } from './optimizer.js';

/** Gradients scaled to a global norm, and the norm they had. */
export interface ClippedGradients {
  /** New tensors (the caller disposes them and, separately, the originals). */
  gradients: Map<Parameter, tf.Tensor>;
  /** The L2 norm of all gradients together, before clipping. */
  totalNorm: tf.Scalar;
}

/**
 * `torch.nn.utils.clip_grad_norm_` (L2): the total norm is the norm of the per-gradient norms, every
 * gradient is multiplied by `min(1, maxNorm / (totalNorm + 1e-6))`. Returns new gradients (the
 * given ones are left as they are) and the total norm, without reading anything back.
 */
export function clipGradNorm(
  gradients: ReadonlyMap<Parameter, tf.Tensor>,
  maxNorm: number,
): ClippedGradients {
  checkHyperparameter('maxNorm', maxNorm);
  const entries = [...gradients];
  if (entries.length === 0) return { gradients: new Map(), totalNorm: tf.scalar(0) };
  // tidy keeps tensors returned in arrays and plain objects (not in a Map).
  const { clipped, totalNorm } = tf.tidy(() => {
    const norms = entries.map(([, gradient]) => tf.sqrt(tf.sum(tf.square(gradient))));
    const total = tf.sqrt(tf.sum(tf.square(tf.stack(norms)))) as tf.Scalar;
    const coefficient = tf.minimum(tf.div(maxNorm, tf.add(total, 1e-6)), 1);
    return { clipped: entries.map(([, gradient]) => tf.mul(gradient, coefficient)), totalNorm: total };
  });
  return { gradients: new Map(entries.map(([parameter], i) => [parameter, clipped[i]!])), totalNorm };
}
