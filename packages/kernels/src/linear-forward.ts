import * as tf from '@tensorflow/tfjs-core';
import { KernelArgumentError } from './errors.js';
import { packedMatmul } from './packed-matmul.js';
import type { PackedWeight } from './packed-weight.js';

/** Backends whose tensors live in CPU memory, where reading an input is a copy, not a GPU download. */
const CPU_BACKENDS = new Set(['wasm', 'cpu']);

/** Rows up to which the kernel serves by default: decode steps, a beam or a small batch. */
export const DEFAULT_SKINNY_ROWS = 8;

export interface LinearForwardOptions {
  /** Largest row count (product of x's leading sizes) the kernel takes; more go to tfjs `matMul`. */
  maxRows?: number;
}

/**
 * y = x · W (+ bias) for x `[..., in]` → `[..., out]`, an ordinary tfjs tensor whatever computes it:
 * the WebAssembly kernel on `weight`'s pool when the active backend keeps tensors in CPU memory (wasm,
 * cpu) and x has few rows; tfjs-core `matMul` on `weight.portable` otherwise (webgpu, tensorflow,
 * prefill). Model code calls this and never asks which ran.
 *
 * The kernel path reads x and bias with the backend's `readSync` (on wasm a copy out of its heap, on
 * cpu its own array: no device round trip; never taken on webgpu) and records no gradient: it serves
 * inference, and a model in training mode calls tfjs ops.
 */
export function linearForward(
  x: tf.Tensor,
  weight: PackedWeight,
  bias?: tf.Tensor1D,
  options: LinearForwardOptions = {},
): tf.Tensor {
  const inFeatures = x.shape.at(-1);
  if (inFeatures !== weight.inFeatures || x.dtype !== 'float32') {
    throw new KernelArgumentError(
      `linearForward: x is ${x.dtype} [${x.shape}], the weight takes float32 [..., ${weight.inFeatures}]`,
    );
  }
  if (bias && (bias.rank !== 1 || bias.shape[0] !== weight.outFeatures)) {
    throw new KernelArgumentError(
      `linearForward: bias is [${bias.shape}], the weight has ${weight.outFeatures} outputs`,
    );
  }
  const leading = x.shape.slice(0, -1);
  const rows = leading.reduce((a, b) => a * b, 1);
  const outputShape = [...leading, weight.outFeatures];
  if (CPU_BACKENDS.has(tf.getBackend()) && rows >= 1 && rows <= (options.maxRows ?? DEFAULT_SKINNY_ROWS)) {
    const backend = tf.backend();
    const input = backend.readSync(x.dataId) as Float32Array;
    const biasValues = bias ? (backend.readSync(bias.dataId) as Float32Array) : undefined;
    return tf.tensor(packedMatmul(weight, input, rows, biasValues), outputShape, 'float32');
  }
  const portable = weight.portable;
  if (!portable) {
    throw new KernelArgumentError(
      `linearForward: a ${weight.dtype} weight packed without a portable tensor runs only on wasm or cpu with at most ${options.maxRows ?? DEFAULT_SKINNY_ROWS} rows (backend ${tf.getBackend()}, ${rows} rows)`,
    );
  }
  return tf.tidy(() => {
    let y = tf.matMul(tf.reshape(x, [rows, weight.inFeatures]), portable); // [rows, out]
    if (bias) y = tf.add(y, bias);
    return tf.reshape(y, outputShape);
  });
}
