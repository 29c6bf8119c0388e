import * as tf from '@tensorflow/tfjs-core';
import { lineBytes, readCpuValues } from './cpu-values.js';
import { KernelArgumentError } from './errors.js';
import type { KernelPool } from './kernel-pool.js';

/**
 * The module's `rotateHalves` (assembly/rotary.ts) on the calling thread: rotary position embedding
 * of `x` `[batch, heads, seq, headDim]` with `cos` and `sin` `[batch, seq, width]` (width even, ≤ headDim;
 * channels past it pass through; all float32, else `KernelArgumentError`), over copies in the pool's
 * scratch. Returns a new float32 tensor of x's shape.
 */
export function rotateOnCaller(pool: KernelPool, x: tf.Tensor, cos: tf.Tensor, sin: tf.Tensor): tf.Tensor {
  checkRotateArguments(x, cos, sin);
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

/** Throws `KernelArgumentError` unless x, cos and sin are float32 of the shapes `rotateOnCaller` takes. */
function checkRotateArguments(x: tf.Tensor, cos: tf.Tensor, sin: tf.Tensor): void {
  const fail = (message: string) => {
    throw new KernelArgumentError(`rotateOnCaller: ${message}`);
  };
  if ([x, cos, sin].some((tensor) => tensor.dtype !== 'float32')) fail('x, cos and sin must be float32');
  if (x.rank !== 4) fail(`x must be [batch, heads, seq, headDim], got [${x.shape}]`);
  const [batch, , seq, headDim] = x.shape;
  const width = cos.shape[2]!;
  if (
    cos.rank !== 3 ||
    cos.shape[0] !== batch ||
    cos.shape[1] !== seq ||
    width % 2 !== 0 ||
    width > headDim!
  ) {
    fail(`cos is [${cos.shape}], not [${batch}, ${seq}, width] with an even width ≤ ${headDim}`);
  }
  if (sin.shape.join() !== cos.shape.join()) fail(`sin is [${sin.shape}], cos [${cos.shape}]`);
}
