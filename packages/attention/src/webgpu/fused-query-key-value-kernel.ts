import type { WgslKernel } from '@tsformer/kernels';
import type { FusedQueryKeyValueLayout } from '../split-heads.js';
import { rotatedChannel } from './rope-kernel.js';

const THREADS = 64;

/**
 * WGSL for where head `head`'s channel 0 of `part` (0 query, 1 key, 2 value) sits in one row of the
 * fused projection: `blocks` `[q (heads·headDim) | k (kvHeads·headDim) | v]`, `per-head` `[heads, 3, headDim]`.
 */
function partColumn(order: FusedQueryKeyValueLayout['order']): string {
  return order === 'blocks'
    ? '(select(0, uniforms.heads, part >= 1) + select(0, uniforms.kvHeads, part == 2) + head) * headDim'
    : '(head * 3 + part) * headDim';
}

const kernels = new Map<string, WgslKernel>();

/**
 * Splits a fused q/k/v projection `[batch, seq, features]` (`order`: GPT-2's and Phi-3's `blocks`,
 * GPT-NeoX's `per-head`) into heads where it reads it, in one dispatch: the query into a new
 * `query` `[batch, heads, seq, headDim]`, the key and the value into `keyTarget` and `valueTarget`
 * `[batch, kvHeads, targetLength, headDim]` at positions `offset …` — a static cache's block written in
 * place, or new `[batch, kvHeads, seq, headDim]` tensors (`targetLength = seq`, `offset = 0`). `rotate`:
 * HF's `apply_rotary_pos_emb` on the query and the key on the way (`cos`, `sin` `[batch, seq, width]`,
 * the channels past `width` copied: partial rotary). One thread per element of query, key and value.
 * Workgroups: `ceil((queryElements + 2 · keyElements) / 64)`.
 */
export function fusedQueryKeyValueKernel(
  order: FusedQueryKeyValueLayout['order'],
  rotate: boolean,
): WgslKernel {
  const key = `tsformerFusedQueryKeyValue_${order}_${rotate}`;
  let kernel = kernels.get(key);
  if (kernel) return kernel;
  const positioned = rotate ? rotatedChannel('projection', 'at') : 'let out = projection[at];';
  kernel = {
    key,
    outputs: [
      { name: 'query', type: 'f32' },
      { name: 'keyTarget', type: 'f32' },
      { name: 'valueTarget', type: 'f32' },
    ],
    inputs: [
      { name: 'projection', type: 'f32' },
      ...(rotate
        ? [
            { name: 'cos', type: 'f32' as const },
            { name: 'sin', type: 'f32' as const },
          ]
        : []),
    ],
    uniforms: [
      { name: 'queryElements', type: 'i32' },
      { name: 'keyElements', type: 'i32' },
      { name: 'heads', type: 'i32' },
      { name: 'kvHeads', type: 'i32' },
      { name: 'seq', type: 'i32' },
      { name: 'headDim', type: 'i32' },
      { name: 'features', type: 'i32' },
      { name: 'width', type: 'i32' },
      { name: 'targetLength', type: 'i32' },
      { name: 'offset', type: 'i32' },
    ],
    workgroupSize: THREADS,
    body: `
      let queryElements = uniforms.queryElements;
      let keyElements = uniforms.keyElements;
      if (globalIndex >= queryElements + 2 * keyElements) { return; }
      // Which part this thread writes (0 query, 1 key, 2 value) and its element i there.
      var part = 0;
      var i = globalIndex;
      var partHeads = uniforms.heads;
      if (i >= queryElements) {
        i = i - queryElements;
        part = 1;
        partHeads = uniforms.kvHeads;
        if (i >= keyElements) { i = i - keyElements; part = 2; }
      }
      let headDim = uniforms.headDim;
      // i indexes [batch, partHeads, seq, headDim]
      let d = i % headDim;
      let s = (i / headDim) % uniforms.seq;
      let bh = i / (headDim * uniforms.seq);
      let b = bh / partHeads;
      let head = bh % partHeads;
      // [batch, seq, features]: this element in the projection
      let at = (b * uniforms.seq + s) * uniforms.features + ${partColumn(order)} + d;
      let targetIndex = (bh * uniforms.targetLength + uniforms.offset + s) * headDim + d;
      if (part == 2) {
        valueTarget[targetIndex] = projection[at];
        return;
      }
      ${positioned}
      if (part == 0) { query[i] = out; } else { keyTarget[targetIndex] = out; }`,
  };
  kernels.set(key, kernel);
  return kernel;
}
