import type { WgslKernel } from '@tsformer/kernels';

/** Queries one workgroup serves: one per thread, all of one (row, query head). */
export const QUERIES_PER_WORKGROUP = 32;

/** The largest head dimension the kernel keeps in each thread's registers (query and accumulator). */
export const MAX_PREFILL_HEAD_DIM = 256;

/** Floats of keys plus values one tile holds in workgroup memory (12 KiB, under WebGPU's 16 KiB floor). */
const TILE_FLOATS = 3072;

/** Keys per tile: as many as fit `TILE_FLOATS` with their values, at most 32 (each thread keeps their scores). */
export function keysPerTile(headDim: number): number {
  return Math.max(1, Math.min(32, Math.floor(TILE_FLOATS / (2 * headDim))));
}

/** Per (row, query head, query): the running max, the running sum of exponentials, then `headDim` weighted sums. */
export function stateWidth(headDim: number): number {
  return headDim + 2;
}

/** f32's lowest finite value: the running max before any key, so a key hidden by -Infinity weighs 0, not NaN. */
const LOWEST = '-3.402823466e38';

/** What a prefill dispatch does with the running softmax state of each query. */
export interface PrefillAttentionVariant {
  headDim: number;
  /** Cache blocks this dispatch binds (`key0`, `value0`, `key1`, …). */
  blocks: number;
  hasMask: boolean;
  hasSoftcap: boolean;
  /** Starts from the `state` an earlier dispatch over earlier blocks left, instead of from nothing. */
  carriesIn: boolean;
  /** Writes the normalised result `output`; otherwise writes `state` for the next dispatch. */
  isLast: boolean;
}

const kernels = new Map<string, WgslKernel>();

/**
 * Attention for many queries per row (a prefill) in the style of flash attention: workgroup (row b,
 * query head h, tile of `QUERIES_PER_WORKGROUP` queries) walks the keys of its kv head `h / groups`
 * (grouped-query attention) tile by tile through workgroup memory, and each thread keeps its query's
 * running max, sum of exponentials and weighted sum of values (an online softmax), so the
 * `[queries, keys]` scores are never written out. Scores are `cap(q·k · scale) + mask`, as
 * `eagerAttention`; the mask carries causality, padding and sliding windows.
 *
 * Inputs: `query` `[batch, heads, queryLength, headDim]`, `mask` `[batch or 1, 1, queryLength, keyLength]`
 * when `hasMask`, `state` `[batch·heads·queryLength, headDim + 2]` when the last dispatch carries in,
 * then `key0`, `value0`, … `[batch, kvHeads, blockLength, headDim]`. Output: `output`
 * `[batch, heads, queryLength, headDim]` when `isLast`, else `state` (read first when `carriesIn`).
 * Workgroups: `batch · heads · ceil(queryLength / QUERIES_PER_WORKGROUP)`.
 */
export function prefillAttentionKernel(variant: PrefillAttentionVariant): WgslKernel {
  const { headDim, blocks, hasMask, hasSoftcap, carriesIn, isLast } = variant;
  const key = `tsformerPrefillAttention_${headDim}_${blocks}_${hasMask}_${hasSoftcap}_${carriesIn}_${isLast}`;
  let kernel = kernels.get(key);
  if (!kernel) {
    kernel = { key, ...build(variant) };
    kernels.set(key, kernel);
  }
  return kernel;
}

function build(variant: PrefillAttentionVariant): Omit<WgslKernel, 'key'> {
  const { headDim, blocks, hasMask, hasSoftcap, carriesIn, isLast } = variant;
  const tileKeys = keysPerTile(headDim);
  const width = stateWidth(headDim);
  const blockIndices = Array.from({ length: blocks }, (_, block) => block);
  const cap = hasSoftcap
    ? 'score = tanh(clamp(score / uniforms.softcap, -10.0, 10.0)) * uniforms.softcap;'
    : '';
  const addMask = hasMask ? 'score = score + mask[maskRow + keyStart + tileStart + j];' : '';
  // One block's keys, a tile at a time: load the tile, then each thread folds its query's scores in.
  const walkBlock = (block: number) => `
      {
        let blockLength = uniforms.length${block};
        let keyStart = uniforms.keyStart${block};
        // [batch, kvHeads, blockLength, headDim]: this (row, kv head)'s first key
        let first = (b * kvHeads + g) * blockLength * ${headDim};
        for (var tileStart = 0; tileStart < blockLength; tileStart += ${tileKeys}) {
          let count = min(${tileKeys}, blockLength - tileStart);
          workgroupBarrier();
          for (var i = tid; i < count * ${headDim}; i += ${QUERIES_PER_WORKGROUP}) {
            keyTile[i] = key${block}[first + tileStart * ${headDim} + i];
            valueTile[i] = value${block}[first + tileStart * ${headDim} + i];
          }
          workgroupBarrier();
          if (hasQuery) {
            var tileMax = runningMax;
            for (var j = 0; j < count; j++) {
              var dot = 0.0;
              for (var d = 0; d < ${headDim}; d++) { dot += queryRow[d] * keyTile[j * ${headDim} + d]; }
              var score = dot * uniforms.scale;
              ${cap}
              ${addMask}
              scores[j] = score;
              tileMax = max(tileMax, score);
            }
            let correction = exp(runningMax - tileMax);
            runningSum = runningSum * correction;
            for (var d = 0; d < ${headDim}; d++) { accumulator[d] = accumulator[d] * correction; }
            for (var j = 0; j < count; j++) {
              let weight = exp(scores[j] - tileMax);
              runningSum += weight;
              for (var d = 0; d < ${headDim}; d++) { accumulator[d] += weight * valueTile[j * ${headDim} + d]; }
            }
            runningMax = tileMax;
          }
        }
      }`;
  const start = carriesIn
    ? `if (hasQuery) {
          runningMax = state[at];
          runningSum = state[at + 1];
          for (var d = 0; d < ${headDim}; d++) { accumulator[d] = state[at + 2 + d]; }
        }`
    : '';
  const finish = isLast
    ? `if (hasQuery) {
          for (var d = 0; d < ${headDim}; d++) { output[queryAt + d] = accumulator[d] / runningSum; }
        }`
    : `if (hasQuery) {
          state[at] = runningMax;
          state[at + 1] = runningSum;
          for (var d = 0; d < ${headDim}; d++) { state[at + 2 + d] = accumulator[d]; }
        }`;
  const stateBuffer = { name: 'state', type: 'f32' as const };
  return {
    outputs: [isLast ? { name: 'output', type: 'f32' } : stateBuffer],
    inputs: [
      { name: 'query', type: 'f32' },
      ...(hasMask ? [{ name: 'mask', type: 'f32' as const }] : []),
      ...(carriesIn && isLast ? [stateBuffer] : []),
      ...blockIndices.flatMap((block) => [
        { name: `key${block}`, type: 'f32' as const },
        { name: `value${block}`, type: 'f32' as const },
      ]),
    ],
    uniforms: [
      { name: 'scale', type: 'f32' },
      { name: 'softcap', type: 'f32' },
      { name: 'batch', type: 'i32' },
      { name: 'heads', type: 'i32' },
      { name: 'groups', type: 'i32' },
      { name: 'queryLength', type: 'i32' },
      { name: 'keyLength', type: 'i32' },
      { name: 'maskBatchStride', type: 'i32' },
      ...blockIndices.flatMap((block) => [
        { name: `length${block}`, type: 'i32' as const },
        { name: `keyStart${block}`, type: 'i32' as const },
      ]),
    ],
    workgroupSize: QUERIES_PER_WORKGROUP,
    helpers: `
      var<workgroup> keyTile : array<f32, ${tileKeys * headDim}>;
      var<workgroup> valueTile : array<f32, ${tileKeys * headDim}>;`,
    body: `
      let heads = uniforms.heads;
      let queryTiles = (uniforms.queryLength + ${QUERIES_PER_WORKGROUP - 1}) / ${QUERIES_PER_WORKGROUP};
      let pair = workgroupIndex / queryTiles; // b * heads + h
      let b = pair / heads;
      // Whole workgroups past the work leave together, before any barrier.
      if (b >= uniforms.batch) { return; }
      let h = pair - b * heads;
      let kvHeads = heads / uniforms.groups;
      let g = h / uniforms.groups;
      let q = (workgroupIndex - pair * queryTiles) * ${QUERIES_PER_WORKGROUP} + tid;
      // Threads past the last query still load tiles and meet every barrier.
      let hasQuery = q < uniforms.queryLength;
      let queryAt = (pair * uniforms.queryLength + q) * ${headDim};
      let at = (pair * uniforms.queryLength + q) * ${width};
      let maskRow = b * uniforms.maskBatchStride + q * uniforms.keyLength;
      var queryRow : array<f32, ${headDim}>;
      var accumulator : array<f32, ${headDim}>;
      var scores : array<f32, ${tileKeys}>;
      var runningMax = ${LOWEST};
      var runningSum = 0.0;
      if (hasQuery) {
        for (var d = 0; d < ${headDim}; d++) { queryRow[d] = query[queryAt + d]; }
      }
      ${start}
      ${blockIndices.map(walkBlock).join('')}
      ${finish}`,
  };
}
