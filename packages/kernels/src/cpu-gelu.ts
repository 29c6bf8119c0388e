import * as tf from '@tensorflow/tfjs-core';
import { lineBytes } from './cpu-values.js';
import type { KernelPool } from './kernel-pool.js';

/**
 * The kernel behind `geluTanh` on wasm and cpu: the module's `geluTanh` (assembly/gelu.ts: tfjs's
 * float32 steps, tanh to a few units in the last place, four at a time) on the calling thread, over
 * x copied into the pool's scratch. Declines float32-less input (`defineFusedOp` keeps it out of
 * gradient recording). `read` gives a tensor's values where the backend holds them.
 */
export function cpuGeluTanh(pool: KernelPool, read: (tensor: tf.Tensor) => Float32Array) {
  return (x: tf.Tensor): tf.Tensor | undefined => {
    if (x.dtype !== 'float32' || x.size === 0) return undefined;
    const count = x.size;
    const bytes = lineBytes(count);
    const scratch = pool.scratch(2 * bytes);
    new Float32Array(pool.heap.memory.buffer, scratch, count).set(read(x));
    pool.callOnCaller('geluTanh', scratch, count, scratch + bytes);
    return tf.tensor(
      new Float32Array(pool.heap.memory.buffer, scratch + bytes, count).slice(),
      x.shape,
      'float32',
    );
  };
}
