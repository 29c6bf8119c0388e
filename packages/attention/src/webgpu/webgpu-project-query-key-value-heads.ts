import type * as tf from '@tensorflow/tfjs-core';
import { webgpuStackedLinear } from '@tsformer/kernels';
import type { QueryKeyValueProjections } from '../project-query-key-value-heads.js';
import type { FusedQueryKeyValue } from '../split-heads.js';

/**
 * `projectQueryKeyValueHeads` on webgpu: the q/k/v projections as one linear dispatch over their
 * stacked weights (`webgpuStackedLinear`), the result `[batch, seq, (heads + 2·kvHeads)·headDim]` left
 * unsplit; undefined where the stacked linear declines (then the portable op runs).
 */
export function webgpuProjectQueryKeyValueHeads(
  hidden: tf.Tensor3D,
  projections: QueryKeyValueProjections,
): FusedQueryKeyValue | undefined {
  const { query, key, value, heads, kvHeads, headDim } = projections;
  const projection = webgpuStackedLinear(hidden, [query, key, value]);
  if (!projection) return undefined;
  return { projection: projection as tf.Tensor3D, layout: { heads, kvHeads, headDim, order: 'blocks' } };
}
