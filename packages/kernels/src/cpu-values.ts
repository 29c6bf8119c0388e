import * as tf from '@tensorflow/tfjs-core';

/** tfjs-backend-wasm's view of a tensor's bytes in its heap (no copy). */
interface WasmHeapView {
  typedArrayFromHeap(tensor: tf.TensorInfo): Float32Array;
}

/**
 * A float32 tensor's values where the active CPU backend holds them, without a copy: on wasm a view
 * of its heap (valid until tfjs next allocates: the kernel copies it at once), on cpu its own array.
 * Never a device download: the CPU kernels serve only these two backends.
 */
export function readCpuValues(tensor: tf.Tensor): Float32Array {
  const backend = tf.backend() as tf.KernelBackend & Partial<WasmHeapView>;
  if (typeof backend.typedArrayFromHeap === 'function') return backend.typedArrayFromHeap(tensor);
  return backend.readSync(tensor.dataId) as Float32Array;
}

/** Bytes of `values` float32 rounded up to whole cache lines (where one kernel input ends, the next starts). */
export function lineBytes(values: number): number {
  return Math.ceil((values * 4) / 64) * 64;
}
