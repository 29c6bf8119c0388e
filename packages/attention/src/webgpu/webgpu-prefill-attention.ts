import * as tf from '@tensorflow/tfjs-core';
import { dispatchKernel, type KernelOutput, maxStorageBuffers } from '@tsformer/kernels';
import { checkAttentionInput } from '../attention-input.js';
import type { AttentionInput, AttentionOutput } from '../attention-types.js';
import {
  MAX_PREFILL_HEAD_DIM,
  prefillAttentionKernel,
  QUERIES_PER_WORKGROUP,
  stateWidth,
} from './prefill-attention-kernel.js';

/**
 * `decodeAttention` on webgpu for many queries per row (a prefill, a chunk of a prompt): one dispatch
 * per group of cache blocks that fit the device's storage-buffer bindings — usually one — each walking
 * its blocks' keys with an online softmax (`prefillAttentionKernel`), the later ones continuing from the
 * running state the earlier ones left. Same semantics as `eagerAttention` (mask, grouped-query heads,
 * scale, soft-capping) for float32 inputs whose value width equals the head dimension (at most
 * `MAX_PREFILL_HEAD_DIM`); attention maps, head masks, T5's position bias and training go to the
 * portable implementation (returns undefined).
 */
export function webgpuPrefillAttention(input: AttentionInput): AttentionOutput | undefined {
  const { query, mask, positionBias, headMask, outputAttentions, training } = input;
  if (query.dtype !== 'float32') return undefined;
  if (positionBias != null || headMask != null || outputAttentions || training) return undefined;
  if (mask != null && mask.dtype !== 'float32') return undefined;
  const checked = checkAttentionInput(input);
  const { keys, values, blockLengths, batchSize, heads, groups, queryLength, headDim, valueDim, keyLength } =
    checked;
  if (
    valueDim !== headDim ||
    headDim > MAX_PREFILL_HEAD_DIM ||
    keys.some((key, index) => key.dtype !== 'float32' || values[index]!.dtype !== 'float32')
  ) {
    return undefined;
  }
  const hasMask = mask != null;
  const hasSoftcap = checked.softcap !== null;
  // Storage bindings: the result, the query, the mask, the carried state, then a key and a value per block.
  const blocksPerDispatch = Math.floor((maxStorageBuffers() - 3 - (hasMask ? 1 : 0)) / 2);
  const maskBatchStride = mask != null && mask.shape[0] > 1 ? queryLength * keyLength : 0;
  const rowsOfQueries = batchSize * heads;
  const workgroups = rowsOfQueries * Math.ceil(queryLength / QUERIES_PER_WORKGROUP);

  return tf.tidy(() => {
    let state: tf.Tensor | null = null; // [batch * heads * queryLength, headDim + 2]
    let output: tf.Tensor | null = null;
    let firstBlock = 0;
    let keyStart = 0;
    while (firstBlock < keys.length) {
      const group = blockLengths.slice(firstBlock, firstBlock + blocksPerDispatch);
      const isLast = firstBlock + group.length === keys.length;
      const carriesIn = state !== null;
      const blockUniforms = group.flatMap((length) => {
        const pair = [length, keyStart];
        keyStart += length;
        return pair;
      });
      const inputs = [
        query,
        ...(mask != null ? [mask] : []),
        ...(carriesIn && isLast ? [state!] : []),
        ...group.flatMap((_, index) => [keys[firstBlock + index]!, values[firstBlock + index]!]),
      ];
      const uniforms = [
        checked.scale,
        checked.softcap ?? 0,
        batchSize,
        heads,
        groups,
        queryLength,
        keyLength,
        maskBatchStride,
        ...blockUniforms,
      ];
      const target: KernelOutput = isLast
        ? { shape: [batchSize, heads, queryLength, headDim], dtype: 'float32' }
        : state === null
          ? { shape: [rowsOfQueries * queryLength, stateWidth(headDim)], dtype: 'float32' }
          : { writeInto: state };
      const kernel = prefillAttentionKernel({
        headDim,
        blocks: group.length,
        hasMask,
        hasSoftcap,
        carriesIn,
        isLast,
      });
      const [result] = dispatchKernel(kernel, inputs, [target], uniforms, workgroups);
      if (isLast) output = result!;
      else state = result!;
      firstBlock += group.length;
    }
    return { output: output as tf.Tensor4D }; // [batch, heads, queryLength, headDim]
  });
}
