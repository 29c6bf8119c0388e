import * as tf from '@tensorflow/tfjs-core';
import { lineBytes, readCpuValues } from './cpu-values.js';
import type { KernelPool } from './kernel-pool.js';

/**
 * The module's `rotateHalves` (assembly/rotary.ts) on the calling thread: rotary position embedding
 * of `x` `[batch, heads, seq, headDim]` with `cos` and `sin` `[batch, seq, width]` (checked by the
 * caller: width even, ≤ headDim; channels past it pass through), over copies in the pool's scratch.
 * Returns a new float32 tensor of x's shape.
 */
export function rotateOnCaller(pool: KernelPool, x: tf.Tensor, cos: tf.Tensor, sin: tf.Tensor): tf.Tensor {
  const [batch, heads, seq, headDim] = x.shape as [number, number, number, number];
  const width = cos.shape[2]!;
  const xBytes = lineBytes(x.size);
  const angleBytes = lineBytes(cos.size);
  // Scratch: x | cos | sin | output.
  const xAt = pool.scratch(2 * xBytes + 2 * angleBytes);
  const cosAt = xAt + xBytes;
  const sinAt = cosAt + angleBytes;
  const outputAt = sinAt + angleBytes;
  const memory = pool.heap.memory.buffer;
  new Float32Array(memory, xAt, x.size).set(readCpuValues(x));
  new Float32Array(memory, cosAt, cos.size).set(readCpuValues(cos));
  new Float32Array(memory, sinAt, sin.size).set(readCpuValues(sin));
  pool.callOnCaller('rotateHalves', xAt, cosAt, sinAt, outputAt, batch, heads, seq, headDim, width);
  return tf.tensor(new Float32Array(memory, outputAt, x.size).slice(), x.shape, 'float32');
}
