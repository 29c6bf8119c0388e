import * as tf from '@tensorflow/tfjs-core';
import { maxStorageBuffers, type ProgramUniform, runProgram, runProgramInPlace } from '@tsformer/kernels';
import { checkAttentionInput } from '../attention-input.js';
import type { AttentionInput, AttentionOutput } from '../attention-types.js';
import {
  DecodeAttentionPartialProgram,
  DecodeAttentionReduceProgram,
  KEYS_PER_CHUNK,
} from './decode-attention-programs.js';

/**
 * `decodeAttention` on webgpu: one query per row (a decode step) over every cache block in two kinds of
 * dispatch — one per group of blocks that fit the device's storage-buffer bindings, each scoring chunks of
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
  const common: ProgramUniform[] = [
    { type: 'float32', data: [checked.scale] },
    { type: 'float32', data: [checked.softcap ?? 0] },
    { type: 'int32', data: [groups] },
    { type: 'int32', data: [mask != null && mask.shape[0] > 1 ? keyLength : 0] },
  ];

  return tf.tidy(() => {
    let partials: tf.Tensor | null = null;
    let firstBlock = 0;
    let firstChunk = 0;
    let keyStart = 0;
    while (firstBlock < keys.length) {
      const group = blockLengths.slice(firstBlock, firstBlock + blocksPerDispatch);
      const program = new DecodeAttentionPartialProgram(
        batchSize,
        heads,
        headDim,
        group,
        totalChunks,
        hasMask,
        checked.softcap !== null,
      );
      const blockUniforms: ProgramUniform[] = group.flatMap((length) => {
        const uniforms: ProgramUniform[] = [
          { type: 'int32', data: [length] },
          { type: 'int32', data: [keyStart] },
        ];
        keyStart += length;
        return uniforms;
      });
      const inputs = [
        query,
        ...(hasMask ? [mask] : []),
        ...group.flatMap((_, index) => [keys[firstBlock + index]!, values[firstBlock + index]!]),
      ];
      const uniforms = [
        ...common,
        { type: 'int32', data: [firstChunk] },
        { type: 'int32', data: [totalChunks] },
        ...blockUniforms,
      ] satisfies ProgramUniform[];
      if (partials === null) partials = runProgram(program, inputs, 'float32', uniforms);
      else runProgramInPlace(program, inputs, partials, uniforms);
      firstBlock += group.length;
      firstChunk += group.reduce((total, length) => total + chunksOf(length), 0);
    }
    const reduce = new DecodeAttentionReduceProgram(batchSize, heads, headDim);
    const output = runProgram(reduce, [partials!], 'float32', [
      { type: 'int32', data: [batchSize * heads * headDim] },
      { type: 'int32', data: [totalChunks] },
    ]) as tf.Tensor4D; // [batch, heads, 1, headDim]
    return { output };
  });
}
