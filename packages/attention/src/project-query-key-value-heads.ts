import * as tf from '@tensorflow/tfjs-core';
import { defineFusedOp, linear, type Projection } from '@tsformer/kernels';
import { type FusedQueryKeyValue, type QueryKeyValue, splitHeads } from './split-heads.js';

/** Separate query, key and value projections (Llama's `q_proj`, `k_proj`, `v_proj`) and their heads. */
export interface QueryKeyValueProjections {
  query: Projection;
  key: Projection;
  value: Projection;
  heads: number;
  /** Key/value heads (grouped-query attention). */
  kvHeads: number;
  headDim: number;
}

/**
 * `hidden` `[batch, seq, hidden]` through separate q/k/v projections, as attention's heads: the query
 * `[batch, heads, seq, headDim]`, the key and the value `[batch, kvHeads, seq, headDim]` (three `linear`
 * ops and `splitHeads`: the portable implementation). On webgpu (`enableWebgpuAttention`) the three are
 * one dispatch over their stacked weights, and the projection `[batch, seq, (heads + 2·kvHeads)·headDim]`
 * comes back unsplit as a `FusedQueryKeyValue` (`blocks` order) for `storeFusedQueryKeyValue`, which
 * splits it where it stores it. A caller takes either (`SelfAttention` does).
 */
export const projectQueryKeyValueHeads = defineFusedOp(
  'projectQueryKeyValueHeads',
  (hidden: tf.Tensor3D, projections: QueryKeyValueProjections): QueryKeyValue | FusedQueryKeyValue => {
    const { query, key, value, heads, kvHeads, headDim } = projections;
    const project = ({ weight, bias, layout }: Projection) => linear(hidden, weight, bias, layout);
    return tf.tidy(() => ({
      query: splitHeads(project(query), heads, headDim), // [batch, heads, seq, headDim]
      key: splitHeads(project(key), kvHeads, headDim), // [batch, kvHeads, seq, headDim]
      value: splitHeads(project(value), kvHeads, headDim),
    }));
  },
);
