import * as tf from '@tensorflow/tfjs-core';
import type { KernelPool } from './kernel-pool.js';

/** Bytes of `values` float32 rounded up to whole cache lines, plus one line the kernel may read past the end. */
function paddedBytes(values: number): number {
  return Math.ceil((values * 4) / 64) * 64 + 64;
}

interface BatchMatMulArgs {
  inputs: { a: tf.TensorInfo; b: tf.TensorInfo };
  /** The cpu backend makes a tensor from values; the wasm backend makes one in its heap and lends views of it. */
  backend: tf.KernelBackend & {
    makeTensorInfo?(shape: number[], dtype: 'float32', values: Float32Array): tf.TensorInfo;
    makeOutput?(shape: number[], dtype: 'float32'): tf.TensorInfo;
    typedArrayFromHeap?(tensor: tf.TensorInfo): Float32Array;
  };
  attrs: { transposeA: boolean; transposeB: boolean };
}

/**
 * Serves tfjs's `BatchMatMul` kernel on `backendName` (wasm, cpu) with the module's `batchedMatmul`
 * (assembly/batched-matmul.ts) for products of several equal-batch pairs — attention's per-head Q·Kᵀ
 * and P·V, which tfjs's wasm backend multiplies at ~2 GFLOP/s — and hands everything else (a single
 * pair, as a 2-D `matMul` is; broadcast batches; other dtypes) to the backend's own kernel. A tfjs
 * kernel rather than a fused op: attention calls `tf.matMul` and stays backend-agnostic, and gradients
 * (which call `BatchMatMul` too) get the same products. Returns the remover, which puts tfjs's kernel
 * back; undefined when the backend has no `BatchMatMul`.
 */
export function serveBatchMatMul(pool: KernelPool, backendName: string): (() => void) | undefined {
  const original = tf
    .getKernelsForBackend(backendName)
    .find((kernel) => kernel.kernelName === tf.BatchMatMul);
  if (!original) return undefined;
  const originalFunc = original.kernelFunc;
  const kernelFunc = (args: BatchMatMulArgs): tf.TensorInfo => {
    const { a, b } = args.inputs;
    const { transposeA, transposeB } = args.attrs;
    const batchShape = a.shape.slice(0, -2);
    const batch = batchShape.reduce((x, y) => x * y, 1);
    const sameBatch =
      a.shape.length === b.shape.length && batchShape.every((size, axis) => size === b.shape[axis]);
    if (a.dtype !== 'float32' || b.dtype !== 'float32' || batch < 2 || !sameBatch) {
      return originalFunc(args as unknown as Parameters<tf.KernelFunc>[0]) as tf.TensorInfo;
    }
    const rank = a.shape.length;
    const [m, k] = transposeA
      ? [a.shape[rank - 1]!, a.shape[rank - 2]!]
      : [a.shape[rank - 2]!, a.shape[rank - 1]!];
    const n = transposeB ? b.shape[rank - 2]! : b.shape[rank - 1]!;
    const backend = args.backend;
    const read = (tensor: tf.TensorInfo) =>
      (backend.typedArrayFromHeap?.(tensor) ?? backend.readSync(tensor.dataId)) as Float32Array;
    // Scratch: a [batch, m, k] | b [batch, k, n] | c [batch, m, n] | b of one pair laid out [k, n].
    const aBytes = paddedBytes(batch * m * k);
    const bBytes = paddedBytes(batch * k * n);
    const cBytes = paddedBytes(batch * m * n);
    const scratch = pool.scratch(aBytes + bBytes + cBytes + paddedBytes(k * n));
    const memory = pool.heap.memory.buffer;
    new Float32Array(memory, scratch, batch * m * k).set(read(a));
    new Float32Array(memory, scratch + aBytes, batch * k * n).set(read(b));
    const c = scratch + aBytes + bBytes;
    pool.callOnCaller(
      'batchedMatmul',
      scratch,
      scratch + aBytes,
      c,
      batch,
      m,
      k,
      n,
      +transposeA,
      +transposeB,
      c + cBytes,
    );
    const values = new Float32Array(memory, c, batch * m * n);
    const shape = [...batchShape, m, n];
    if (backend.makeOutput && backend.typedArrayFromHeap) {
      const output = backend.makeOutput(shape, 'float32');
      backend.typedArrayFromHeap(output).set(values);
      return output;
    }
    return backend.makeTensorInfo!(shape, 'float32', values.slice());
  };
  tf.unregisterKernel(tf.BatchMatMul, backendName);
  tf.registerKernel({
    kernelName: tf.BatchMatMul,
    backendName,
    kernelFunc: kernelFunc as unknown as tf.KernelFunc,
  });
  return () => {
    tf.unregisterKernel(tf.BatchMatMul, backendName);
    tf.registerKernel(original);
  };
}
