import * as tf from '@tensorflow/tfjs-core';
import type { Parameter } from '@tsformer/core-tensor';
import { defineFusedOp } from './fused-op.js';

/**
 * PyTorch's `F.embedding`: rows `ids` of `table` (checkpoint shape `[num, dim]`, stored `[dim, num]`
 * when `table.transposed`) for int32 ids `[...]` → `[..., dim]`.
 *
 * Backend implementations serve inference only (a trainable table takes the portable gather, which
 * records the gradient); the CPU kernels serve a table held only as its packed copy.
 */
export const embedding = defineFusedOp('embedding', (ids: tf.Tensor, table: Parameter) =>
  tf.tidy(() => {
    const flat = tf.reshape(ids, [-1]);
    const rows = table.transposed
      ? tf.transpose(tf.gather(table.tensor, flat, 1)) // [dim, tokens] -> [tokens, dim]
      : tf.gather(table.tensor, flat); // [tokens, dim]
    return tf.reshape(rows, [...ids.shape, table.shape[1]!]);
  }),
);
