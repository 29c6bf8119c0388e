import * as tf from '@tensorflow/tfjs-core';
import { dispatchKernel, type KernelOutput, maxStorageBuffers } from '@tsformer/kernels';
import { checkAttentionInput } from '../attention-input.js';
import type { AttentionInput, AttentionOutput } from '../attention-types.js';
import {
  decodeAttentionPartialKernel,
  decodeAttentionReduceKernel,
  KEYS_PER_CHUNK,
  partialWidth,
} from './decode-attention-kernels.js';

/**
 * Chunks of 64 keys up to which one workgroup per (row, head) goes through every chunk itself (one
 * dispatch) instead of one workgroup per chunk and a second dispatch that combines them.
 */
const SINGLE_PASS_CHUNKS = 16;

/** Where block `index` starts among the keys. */
function keyStartOf(blockLengths: readonly number[], index: number): number {
  return blockLengths.slice(0, index).reduce((total, length) => total + length, 0);
}

/**
 * `decodeAttention` on webgpu: one query per row (a decode step) over every cache block. Up to 1024 keys
 * in blocks the device binds at once: one dispatch (`singlePass`); otherwise two kinds of dispatch — one per group of blocks that fit the device's storage-buffer bindings, each scoring chunks of
 * 64 keys (split over the key length), then one that combines the chunks. Everything else (prefill,
 * attention maps, head masks, T5's position bias, training) goes to the portable implementation.
 */
export function webgpuDecodeAttention(input: AttentionInput): AttentionOutput | undefined {
  const { query, mask, positionBias, headMask, outputAttentions, training } = input;
  if (query.shape[2] !== 1 || query.dtype !== 'float32') return undefined;
  if (positionBias != null || headMask != null || outputAttentions || training) return undefined;
  if (mask != null && mask.dtype !== 'float32') return undefined;
  const checked = checkAttentionInput(input);
  const { keys, values, blockLengths, batchSize, heads, groups, headDim, valueDim, keyLength } = checked;
  if (
    valueDim !== headDim ||
    keys.some((key, index) => key.dtype !== 'float32' || values[index]!.dtype !== 'float32')
  ) {
    return undefined;
  }
  const hasMask = mask != null;
  // Storage bindings: the result, the query, the mask, then a key and a value per block.
  const blocksPerDispatch = Math.floor((maxStorageBuffers() - 2 - (hasMask ? 1 : 0)) / 2);
  const chunksOf = (length: number) => Math.ceil(length / KEYS_PER_CHUNK);
  const totalChunks = blockLengths.reduce((total, length) => total + chunksOf(length), 0);
  const hasSoftcap = checked.softcap !== null;
  const maskRowStride = mask != null && mask.shape[0] > 1 ? keyLength : 0;

  if (keys.length <= blocksPerDispatch && totalChunks <= SINGLE_PASS_CHUNKS) {
    const blockUniforms = blockLengths.flatMap((length, index) => [length, keyStartOf(blockLengths, index)]);
    const kernel = decodeAttentionPartialKernel(headDim, keys.length, hasMask, hasSoftcap, true);
    const inputs = [
      query,
      ...(mask != null ? [mask] : []),
      ...keys.flatMap((key, index) => [key, values[index]!]),
    ];
    const uniforms = [
      checked.scale,
      checked.softcap ?? 0,
      batchSize,
      heads,
      groups,
      maskRowStride,
      totalChunks,
      0,
      totalChunks,
      ...blockUniforms,
    ];
    const [output] = dispatchKernel(
      kernel,
      inputs,
      [{ shape: [batchSize, heads, 1, headDim], dtype: 'float32' }],
      uniforms,
      batchSize * heads,
    );
    return { output: output as tf.Tensor4D }; // [batch, heads, 1, headDim]
  }
  return tf.tidy(() => {
    let partials: tf.Tensor | null = null; // [batch * heads, totalChunks, headDim + 2]
    let firstBlock = 0;
    let firstChunk = 0;
    let keyStart = 0;
    while (firstBlock < keys.length) {
      const group = blockLengths.slice(firstBlock, firstBlock + blocksPerDispatch);
      const dispatchChunks = group.reduce((total, length) => total + chunksOf(length), 0);
      const blockUniforms = group.flatMap((length) => {
        const pair = [length, keyStart];
        keyStart += length;
        return pair;
      });
      const inputs = [
        query,
        ...(mask != null ? [mask] : []),
        ...group.flatMap((_, index) => [keys[firstBlock + index]!, values[firstBlock + index]!]),
      ];
      const uniforms = [
        checked.scale,
        checked.softcap ?? 0,
        batchSize,
        heads,
        groups,
        maskRowStride,
        dispatchChunks,
        firstChunk,
        totalChunks,
        ...blockUniforms,
      ];
      const output: KernelOutput =
        partials === null
          ? { shape: [batchSize * heads, totalChunks, partialWidth(headDim)], dtype: 'float32' as const }
          : { writeInto: partials };
      const kernel = decodeAttentionPartialKernel(headDim, group.length, hasMask, hasSoftcap);
      partials = dispatchKernel(kernel, inputs, [output], uniforms, batchSize * heads * dispatchChunks)[0]!;
      firstBlock += group.length;
      firstChunk += dispatchChunks;
    }
    const elements = batchSize * heads * headDim;
    const [output] = dispatchKernel(
      decodeAttentionReduceKernel(headDim),
      [partials!],
      [{ shape: [batchSize, heads, 1, headDim], dtype: 'float32' }],
      [elements, totalChunks],
      Math.ceil(elements / 64),
    );
    return { output: output as tf.Tensor4D }; // [batch, heads, 1, headDim]
  });
}
