import type * as tf from '@tensorflow/tfjs-core';
import type { LayerCache } from '@tsformer/cache';
import { type ProgramUniform, runProgram, runProgramInPlace } from '@tsformer/kernels';
import { checkRotaryInputs } from '../apply-rotary-embedding.js';
import { keyValueBlock } from '../key-value-block.js';
import type { RotaryKeyValues } from '../rotary-key-values.js';
import { RopeProgram } from './rope-program.js';

/**
 * `rotaryKeyValues` on webgpu: one `RopeProgram` dispatch for the query, one for the key and one for the
 * value (a copy), the key and value written in place into a static cache's block when the cache hands one
 * out (`LayerCache.reserveInPlace`); other caches get the rotated key through `update` as before.
 */
export function webgpuRotaryKeyValues(
  query: tf.Tensor4D,
  key: tf.Tensor4D,
  value: tf.Tensor4D,
  cos: tf.Tensor3D,
  sin: tf.Tensor3D,
  cache: LayerCache | null,
): RotaryKeyValues | undefined {
  const tensors = [query, key, value, cos, sin];
  if (tensors.some((tensor) => tensor.dtype !== 'float32')) return undefined;
  checkRotaryInputs(query, key, cos, sin);
  const width = cos.shape[2];
  const rotatedQuery = rotated(query, cos, sin, width);
  const slot = cache?.reserveInPlace?.(key, value);
  if (slot) {
    writeRotated(key, cos, sin, width, slot.key, slot.offset);
    writeRotated(value, cos, sin, 0, slot.value, slot.offset); // a copy
    return { query: rotatedQuery, keyValues: slot.keyValues };
  }
  const rotatedKey = rotated(key, cos, sin, width);
  const keyValues = cache ? cache.update(rotatedKey, value) : keyValueBlock(rotatedKey, value);
  return { query: rotatedQuery, keyValues };
}

/** `x` `[batch, heads, seq, headDim]` rotated on its first `width` channels, as a new tensor. */
function rotated(x: tf.Tensor4D, cos: tf.Tensor3D, sin: tf.Tensor3D, width: number): tf.Tensor4D {
  const program = new RopeProgram(x.shape, x.shape[2]);
  return runProgram(program, [x, cos, sin], 'float32', ropeUniforms(x, width, x.shape[2], 0)) as tf.Tensor4D;
}

/** `x` rotated on its first `width` channels, written into `target`'s positions from `offset` on. */
function writeRotated(
  x: tf.Tensor4D,
  cos: tf.Tensor3D,
  sin: tf.Tensor3D,
  width: number,
  target: tf.Tensor4D,
  offset: number,
): void {
  const program = new RopeProgram(x.shape, target.shape[2]);
  runProgramInPlace(program, [x, cos, sin], target, ropeUniforms(x, width, target.shape[2], offset));
}

function ropeUniforms(x: tf.Tensor4D, width: number, targetLength: number, offset: number): ProgramUniform[] {
  return [
    { type: 'int32', data: [x.size] },
    { type: 'int32', data: [width] },
    { type: 'int32', data: [targetLength] },
    { type: 'int32', data: [offset] },
  ];
}
