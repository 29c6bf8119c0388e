import { defineFusedOp } from '@tsformer/kernels';
import type { AttentionInput, AttentionOutput } from './attention-types.js';
import { eagerAttention } from './eager-attention.js';

/**
 * Scaled-dot-product attention as a fused op: the `eager` entry of the attention registry. Its portable
 * implementation is `eagerAttention` (any input, any backend, the one that records gradients); a
 * backend may serve the decode step (one query per row over the cache) with one kernel — webgpu does
 * (`enableWebgpuAttention`), and wasm and cpu do (`enableCpuAttention`), with the same mask,
 * grouped-query, scaling and soft-capping semantics.
 */
export const decodeAttention = defineFusedOp<[AttentionInput], AttentionOutput>(
  'decodeAttention',
  eagerAttention,
);
